/**
 * Who is calling: `Authorization: Bearer <key>` when API keys are configured
 * (keys are kept only as SHA-256 hashes); otherwise `X-User-ID`, or the
 * bearer token itself as the identity's name, so OpenAI SDK clients (which
 * always send one) are told apart without extra headers.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import {
  BadRequestError,
  ConfigError,
  UnauthorizedError,
} from "../errors/mod.ts";

/** How requests are identified. */
export type AuthMode = "open" | "required" | "api_key";

const USER_ID = /^[A-Za-z0-9._@:+-]{1,128}$/;

/** The identity of anonymous callers in open mode. */
export const ANONYMOUS = "anonymous";

/** SHA-256 hex of `key`. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Parses `API_KEYS` (`name=sha256hex,...`) into hash → identity. */
export function parseApiKeys(spec: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._@:+-]{1,128})=(?:sha256:)?([0-9a-f]{64})$/.exec(
      entry,
    );
    if (!m) {
      throw new ConfigError(
        `API_KEYS: entry "${
          entry.slice(0, 20)
        }…" must be name=<sha256 hex of the key>`,
      );
    }
    map.set(m[2]!, m[1]!);
  }
  return map;
}

/**
 * The identity a bearer token names outside `api_key` mode: the token when
 * it is a valid identity name, else `key-` and 16 hex digits of its
 * SHA-256 (so a long secret-looking key is never echoed or stored); null
 * without a bearer token.
 */
export function bearerIdentity(authorization: string | null): string | null {
  const m = authorization
    ? /^Bearer\s+(\S{1,4096})$/i.exec(authorization)
    : null;
  if (!m) return null;
  const token = m[1]!;
  return USER_ID.test(token) ? token : `key-${hashKey(token).slice(0, 16)}`;
}

/** What the identity step learnt about a request. */
export interface Caller {
  /** The caller's identity; null when an open-mode caller sent none. */
  id: string | null;
}

/** Resolves callers according to the configured mode. */
export class IdentityResolver {
  readonly #keys: Map<string, string>;

  constructor(readonly mode: AuthMode, apiKeys = "") {
    this.#keys = parseApiKeys(apiKeys);
    if (mode === "api_key" && this.#keys.size === 0) {
      throw new ConfigError(
        "AUTH_MODE=api_key needs API_KEYS (name=sha256hex,...)",
      );
    }
  }

  /** Identifies a request from its headers. */
  resolve(headers: Headers): Caller {
    if (this.mode === "api_key") {
      const auth = headers.get("authorization");
      const m = auth ? /^Bearer\s+(\S{1,512})$/i.exec(auth) : null;
      if (!m) {
        throw new UnauthorizedError("missing Authorization: Bearer <api key>");
      }
      const id = this.#lookup(hashKey(m[1]!));
      if (!id) throw new UnauthorizedError("unknown API key");
      return { id };
    }
    const raw = headers.get("x-user-id");
    if (raw === null || raw === "") {
      const bearer = bearerIdentity(headers.get("authorization"));
      if (bearer !== null) return { id: bearer };
      if (this.mode === "required") {
        throw new UnauthorizedError(
          "missing X-User-ID header (or Authorization: Bearer <name>)",
        );
      }
      return { id: null };
    }
    if (!USER_ID.test(raw)) {
      throw new BadRequestError(
        "invalid_user_id",
        "X-User-ID must be 1..128 characters of letters, digits and ._@:+-",
      );
    }
    return { id: raw };
  }

  #lookup(hash: string): string | null {
    const want = Buffer.from(hash, "hex");
    for (const [h, id] of this.#keys) {
      if (timingSafeEqual(Buffer.from(h, "hex"), want)) return id;
    }
    return null;
  }
}
