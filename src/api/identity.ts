/**
 * Who is calling: `X-User-ID`, or `Authorization: Bearer <key>` when API keys
 * are configured. Keys are kept only as SHA-256 hashes.
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
      if (this.mode === "required") {
        throw new UnauthorizedError("missing X-User-ID header");
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
