// The Node side of the JS SDK oracles (harness/oracles/node.py starts it; harness/checks/sdk_js.py asks it).
//
// Usage: node worker.mjs <install folder>   (the folder `nox -s js-oracles` ran `npm ci` in)
//
// Protocol: JSON lines. On start it writes {"ready": true, "versions": {...}, "node": "v22..."}. Then for
// each request line {"id": N, "sdk": "openai" | "anthropic" | "gemini", "body": "<base64 SSE bytes>"} it
// writes one line {"id": N, ...} with exactly one of:
//   "assembled": {"text", "tool_calls": [{"id", "name", "arguments"}], "stop"}  what the SDK's stream
//                helper assembled ("arguments" as the SDK holds them: a string for openai, an object
//                otherwise; "stop" the SDK's raw finish / stop reason, null for gemini);
//   "raised": "<Name>: <message>"   the SDK threw while reading the stream;
//   "skip": "<reason>"              the installed SDK lacks the API this worker drives.
// Requests are answered as they finish (several may be in flight). The SDKs never touch the network:
// each client's `fetch` answers every request with a Response over the given bytes.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const PACKAGES = { openai: "openai", anthropic: "@anthropic-ai/sdk", gemini: "@google/genai" };

export function load(folder) {
  const require = createRequire(join(resolve(folder), "package.json"));
  const modules = {};
  const versions = {};
  for (const [sdk, name] of Object.entries(PACKAGES)) {
    modules[sdk] = require(name);
    const manifest = JSON.parse(readFileSync(join(resolve(folder), "node_modules", name, "package.json"), "utf8"));
    versions[sdk] = `${name} ${manifest.version}`;
  }
  return { modules, versions };
}

function answering(body) {
  return async () =>
    new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

function oneLine(error) {
  const name = error && error.constructor ? error.constructor.name : "Error";
  const text = `${name}: ${error && error.message !== undefined ? error.message : String(error)}`;
  return text.split(/\s+/).join(" ").slice(0, 300);
}

const READERS = {
  async openai(sdk, fetch) {
    const OpenAI = sdk.OpenAI || sdk.default;
    const client = new OpenAI({ apiKey: "sk-oracle", baseURL: "http://oracle.invalid/v1", fetch, maxRetries: 0 });
    if (typeof client.chat?.completions?.stream !== "function") return { skip: "chat.completions.stream() is missing" };
    const stream = client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "hi" }] });
    const completion = await stream.finalChatCompletion();
    const choice = (completion.choices || [])[0];
    if (!choice) return { assembled: { text: "", tool_calls: [], stop: null } };
    const message = choice.message || {};
    return {
      assembled: {
        text: message.content || "",
        tool_calls: (message.tool_calls || []).map((c) => ({
          id: c.id,
          name: c.function?.name,
          arguments: c.function?.arguments,
        })),
        stop: choice.finish_reason ?? null,
      },
    };
  },

  async anthropic(sdk, fetch) {
    const Anthropic = sdk.Anthropic || sdk.default;
    const client = new Anthropic({ apiKey: "sk-oracle", baseURL: "http://oracle.invalid", fetch, maxRetries: 0 });
    if (typeof client.messages?.stream !== "function") return { skip: "messages.stream() is missing" };
    const request = { model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
    const message = await client.messages.stream(request).finalMessage();
    const content = message.content || [];
    return {
      assembled: {
        text: content.filter((b) => b.type === "text").map((b) => b.text).join(""),
        tool_calls: content.filter((b) => b.type === "tool_use").map((b) => ({ id: b.id, name: b.name, arguments: b.input })),
        stop: message.stop_reason ?? null,
      },
    };
  },

  async gemini(sdk, fetch) {
    const client = new sdk.GoogleGenAI({ apiKey: "oracle", httpOptions: { baseUrl: "http://oracle.invalid", fetch } });
    if (typeof client.models?.generateContentStream !== "function") return { skip: "models.generateContentStream() is missing" };
    const text = [];
    const calls = [];
    for await (const chunk of await client.models.generateContentStream({ model: "gemini-x", contents: "hi" })) {
      const candidate = (chunk.candidates || [])[0];
      for (const part of candidate?.content?.parts || []) {
        if (part.functionCall) {
          calls.push({ id: part.functionCall.id ?? null, name: part.functionCall.name, arguments: part.functionCall.args || {} });
        } else if (typeof part.text === "string" && !part.thought) {
          text.push(part.text);
        }
      }
    }
    return { assembled: { text: text.join(""), tool_calls: calls, stop: null } };
  },
};

/** One request's answer (without its id). */
export async function answer(loaded, request) {
  const read = READERS[request.sdk];
  if (!read) return { skip: `unknown sdk ${JSON.stringify(request.sdk)}` };
  const body = Buffer.from(request.body || "", "base64");
  try {
    return await read(loaded.modules[request.sdk], answering(body));
  } catch (error) {
    return { raised: oneLine(error) };
  }
}

/** Read request lines from stdin until it closes; `handle(line)` may override a request's treatment. */
export async function serve(folder, handle = null) {
  const loaded = load(folder);
  const write = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
  write({ ready: true, versions: loaded.versions, node: process.version });
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      write({ id: null, skip: `request is not JSON: ${oneLine(error)}` });
      continue;
    }
    if (handle && handle(request) === "handled") continue;
    answer(loaded, request).then((result) => write({ id: request.id, ...result }));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] || "").href) {
  await serve(process.argv[2]);
}
