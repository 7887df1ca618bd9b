import { assert, assertEquals } from "../testing/assert.ts";
import { rejectsWith } from "../testing/assert.ts";
import { join } from "node:path";
import { ConfigError } from "../errors/mod.ts";
import { ensureK6, K6_VERSION, k6InstallDir, k6Version } from "./k6_install.ts";

const ARCH = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
const ASSET = `k6-v${K6_VERSION}-linux-${ARCH}`;

/** A tarball shaped like the official release, holding a fake `k6`. */
async function fakeTarball(version: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, ASSET));
    const bin = join(dir, ASSET, "k6");
    await Deno.writeTextFile(
      bin,
      `#!/bin/sh\necho "k6 v${version} (fake, linux/${ARCH})"\n`,
    );
    await Deno.chmod(bin, 0o755);
    const out = await new Deno.Command("tar", {
      args: ["-czf", "-", "-C", dir, ASSET],
      stdout: "piped",
    }).output();
    assert(out.success, "tar -czf failed");
    return out.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Serves `handler` on a free port; returns its base URL and a closer. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    handler,
  );
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

Deno.test({
  name: "ensureK6 downloads, extracts and caches the release tarball",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const tarball = await fakeTarball(K6_VERSION);
    const requests: string[] = [];
    const server = serve((req) => {
      requests.push(new URL(req.url).pathname);
      return new Response(tarball as BodyInit, {
        headers: { "content-length": String(tarball.length) },
      });
    });
    const tools = await Deno.makeTempDir();
    const progress: number[] = [];
    try {
      const options = {
        toolsDir: tools,
        downloadBaseUrl: `${server.baseUrl}/`,
        searchPath: "",
        goCommand: "/nonexistent/go",
        onProgress: (f: number) => progress.push(f),
      };
      const path = await ensureK6(options);
      assertEquals(path, join(k6InstallDir(tools), "k6"));
      assertEquals(requests, [`/v${K6_VERSION}/${ASSET}.tar.gz`]);
      assertEquals(progress.at(-1), 1);
      assertEquals(await k6Version(path), K6_VERSION);
      // no leftovers of the download
      const entries = [];
      for await (const e of Deno.readDir(k6InstallDir(tools))) {
        entries.push(e.name);
      }
      assertEquals(entries, ["k6"]);

      const started = performance.now();
      assertEquals(await ensureK6(options), path);
      assert(performance.now() - started < 100, "second call is not instant");
      assertEquals(requests.length, 1);
    } finally {
      await server.close();
      await Deno.remove(tools, { recursive: true });
    }
  },
});

Deno.test("ensureK6 uses a cached binary without any network", async () => {
  const tools = await Deno.makeTempDir();
  try {
    const dir = k6InstallDir(tools);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "k6"), "#!/bin/sh\necho k6 v0\n");
    await Deno.chmod(join(dir, "k6"), 0o755);
    const path = await ensureK6({
      toolsDir: tools,
      searchPath: "",
      downloadBaseUrl: "http://127.0.0.1:9/",
      goCommand: "/nonexistent/go",
    });
    assertEquals(path, join(dir, "k6"));
  } finally {
    await Deno.remove(tools, { recursive: true });
  }
});

Deno.test("ensureK6 prefers a k6 on PATH only when its version matches", async (t) => {
  const tools = await Deno.makeTempDir();
  const bin = await Deno.makeTempDir();
  const opts = {
    toolsDir: tools,
    searchPath: bin,
    downloadBaseUrl: "http://127.0.0.1:9/",
    goCommand: "/nonexistent/go",
    connectTimeoutMs: 2000,
  };
  try {
    await t.step("matching version", async () => {
      await Deno.writeTextFile(
        join(bin, "k6"),
        `#!/bin/sh\necho "k6 v${K6_VERSION} (go1.26.8, linux/amd64)"\n`,
      );
      await Deno.chmod(join(bin, "k6"), 0o755);
      assertEquals(await ensureK6(opts), join(bin, "k6"));
    });
    await t.step("other version is rejected and named", async () => {
      await Deno.writeTextFile(
        join(bin, "k6"),
        `#!/bin/sh\necho "k6 v0.49.0"\n`,
      );
      const other = { ...opts, toolsDir: await Deno.makeTempDir() };
      const error = await rejectsWith(() => ensureK6(other), ConfigError);
      assert(error.message.includes("is version 0.49.0"), error.message);
      await Deno.remove(other.toolsDir, { recursive: true });
    });
  } finally {
    await Deno.remove(tools, { recursive: true });
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("ensureK6 says what to install when nothing works", async (t) => {
  const tools = await Deno.makeTempDir();
  try {
    await t.step("404 from the release server, no go", async () => {
      const server = serve(() => new Response("nope", { status: 404 }));
      try {
        const error = await rejectsWith(
          () =>
            ensureK6({
              toolsDir: tools,
              downloadBaseUrl: server.baseUrl,
              searchPath: "",
              goCommand: "/nonexistent/go",
            }),
          ConfigError,
        );
        for (
          const part of [
            "no k6 on PATH",
            "HTTP 404",
            '"/nonexistent/go" is not installed',
            `Install k6 v${K6_VERSION}`,
            `go install go.k6.io/k6@v${K6_VERSION}`,
          ]
        ) {
          assert(error.message.includes(part), `${part} in: ${error.message}`);
        }
      } finally {
        await server.close();
      }
    });

    await t.step("a server that never answers times out quickly", async () => {
      const release = Promise.withResolvers<void>();
      const server = serve(async () => {
        await release.promise;
        return new Response("late", { status: 503 });
      });
      const started = performance.now();
      try {
        const error = await rejectsWith(
          () =>
            ensureK6({
              toolsDir: tools,
              downloadBaseUrl: server.baseUrl,
              searchPath: "",
              goCommand: "/nonexistent/go",
              connectTimeoutMs: 200,
            }),
          ConfigError,
        );
        assert(error.message.includes("timed out"), error.message);
        assert(performance.now() - started < 5000);
      } finally {
        release.resolve();
        await server.close();
      }
    });

    await t.step("a tarball with the wrong version is refused", async () => {
      const tarball = await fakeTarball("0.1.0");
      const server = serve(() => new Response(tarball as BodyInit));
      try {
        const error = await rejectsWith(
          () =>
            ensureK6({
              toolsDir: tools,
              downloadBaseUrl: server.baseUrl,
              searchPath: "",
              goCommand: "/nonexistent/go",
            }),
          ConfigError,
        );
        assert(
          error.message.includes(`holds k6 0.1.0, not ${K6_VERSION}`),
          error.message,
        );
      } finally {
        await server.close();
      }
    });
  } finally {
    await Deno.remove(tools, { recursive: true });
  }
});

Deno.test("ensureK6 finds or builds the real pinned k6", async () => {
  const path = await ensureK6();
  assertEquals(await k6Version(path), K6_VERSION);
});
