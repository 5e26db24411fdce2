// Drives the real @google/genai SDK against the emulator at GOOGLE_GEMINI_BASE_URL (GOOGLE_VERTEX_BASE_URL
// for Vertex AI) and prints one JSON object: for every flavour of CONFORMANCE_FLAVOURS (developer, vertex,
// express) and every check that applies to it, {ok, value} or {ok: false, error, name, status}. The
// assertions live in sdk_tests/test_js_sdk.py; each check uses a credential of its own
// (`<CONFORMANCE_KEY_PREFIX>-<flavour>-<check>`, with `AQ.` before it in express mode), so that its calls
// can be read back from the emulator's journal.
import { GoogleGenAI } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';

const MODEL = 'gemini-2.5-flash';
const PREFIX = process.env.CONFORMANCE_KEY_PREFIX ?? 'js';
const FLAVOURS = (process.env.CONFORMANCE_FLAVOURS ?? 'developer').split(',');
const PROJECT = 'conformance-project';
const LOCATION = 'us-central1';
let flavour = 'developer'; // the flavour whose checks run now

const credential = (f, check) => `${f === 'express' ? 'AQ.' : ''}${PREFIX}-${f}-${check}`;

// A Vertex AI client that needs no network: an OAuth2 client holding a token without an expiry date is
// never refreshed, and google-auth-library takes it as it is (no Application Default Credentials lookup).
function vertexClient(token, extra) {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: token });
  return new GoogleGenAI({ vertexai: true, project: PROJECT, location: LOCATION, googleAuthOptions: { authClient }, ...extra });
}

const client = (check, extra = {}) => {
  const key = credential(flavour, check);
  if (flavour === 'vertex') return vertexClient(key, extra);
  if (flavour === 'express') return new GoogleGenAI({ vertexai: true, apiKey: key, ...extra });
  return new GoogleGenAI({ apiKey: key, ...extra });
};
const fault = (spec) => ({ httpOptions: { headers: { 'x-emulator-fault': JSON.stringify(spec) } } });

async function drain(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const WEATHER = {
  functionDeclarations: [{
    name: 'get_weather',
    description: 'The weather in a city.',
    parametersJsonSchema: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'days'],
    },
  }],
};

// A declared function called, its response sent back by hand (with the call's id, when it has one).
async function roundTrip(check, model) {
  const ai = client(check);
  const contents = [{ role: 'user', parts: [{ text: 'What is the weather in Paris? Use get_weather.' }] }];
  const config = { tools: [WEATHER] };
  const first = await ai.models.generateContent({ model, contents, config });
  const calls = first.functionCalls ?? [];
  contents.push(first.candidates[0].content);
  contents.push({
    role: 'user',
    parts: calls.map((c) => ({ functionResponse: { name: c.name, id: c.id, response: { forecast: 'sunny' } } })),
  });
  const second = await ai.models.generateContent({ model, contents, config });
  return { calls, answer: second.text };
}

const checks = {
  async generate() {
    const r = await client('generate').models.generateContent({ model: MODEL, contents: 'Hello there' });
    return { text: r.text, usage: r.usageMetadata, finish: r.candidates[0].finishReason, id: r.responseId };
  },
  async generate_v1beta() {
    const ai = client('generate_v1beta', { apiVersion: 'v1beta' });
    return (await ai.models.generateContent({ model: MODEL, contents: 'Hello there' })).text;
  },
  async stream() {
    const ai = client('stream');
    const chunks = await drain(await ai.models.generateContentStream({ model: MODEL, contents: 'Tell me a story' }));
    const unary = await ai.models.generateContent({ model: MODEL, contents: 'Tell me a story' });
    return {
      chunks: chunks.length,
      text: chunks.map((c) => c.text ?? '').join(''),
      unary: unary.text,
      ids: [...new Set(chunks.map((c) => c.responseId))].length,
      finishes: chunks.map((c) => c.candidates?.[0]?.finishReason ?? null),
    };
  },
  async chat() {
    const chat = client('chat').chats.create({ model: MODEL, config: { systemInstruction: 'Be brief.' } });
    const first = await chat.sendMessage({ message: 'My name is Ada.' });
    await drain(await chat.sendMessageStream({ message: 'What is my name?' }));
    const third = await chat.sendMessage({ message: 'Thanks.' });
    return {
      first: first.text,
      third: third.text,
      roles: chat.getHistory().map((c) => c.role),
      curated: chat.getHistory(true).length,
    };
  },
  async chat_after_failures() {
    // What a JS chat keeps after each way a turn can fail, and what it sends next.
    const chat = client('chat_after_failures').chats.create({ model: MODEL });
    const shape = () => chat.getHistory().map((c) => [c.role, (c.parts ?? []).length]);
    const found = {};
    await chat.sendMessage({ message: 'one' });
    try {
      await chat.sendMessage({ message: 'two', config: fault({ kind: 'error', code: 503 }) });
    } catch (e) {
      found.error = { status: e.status, history: shape() };
    }
    try {
      await drain(await chat.sendMessageStream({ message: 'three', config: fault({ kind: 'midstream', after_chunks: 2 }) }));
    } catch (e) {
      found.midstream = { status: e.status, history: shape() };
    }
    await chat.sendMessage({ message: 'four', config: fault({ kind: 'block' }) });
    found.blocked = { history: shape(), curated: chat.getHistory(true).length };
    await drain(await chat.sendMessageStream({ message: 'five', config: fault({ kind: 'truncate', after_chunks: 2 }) }));
    found.truncated = { history: shape(), curated: chat.getHistory(true).length };
    found.next = (await chat.sendMessage({ message: 'six' })).text;
    return found;
  },
  async count_tokens() {
    const ai = client('count_tokens');
    const contents = 'How many tokens are in this sentence, roughly?';
    const counted = await ai.models.countTokens({ model: MODEL, contents });
    const generated = await ai.models.generateContent({ model: MODEL, contents });
    return { total: counted.totalTokens, prompt: generated.usageMetadata.promptTokenCount };
  },
  async embed() {
    const r = await client('embed').models.embedContent({
      model: 'gemini-embedding-001', contents: ['first', 'second'], config: { outputDimensionality: 16 },
    });
    return r.embeddings.map((e) => ({ size: e.values.length, norm: Math.hypot(...e.values) }));
  },
  async models() {
    const ai = client('models');
    const names = [];
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    for await (const model of pager) names.push(model.name);
    const one = await ai.models.get({ model: MODEL });
    return { names, get: { name: one.name, displayName: one.displayName, inputTokenLimit: one.inputTokenLimit } };
  },
  async unknown_model() {
    return (await client('unknown_model').models.generateContent({ model: 'gemini-nope', contents: 'x' })).text;
  },
  async bad_request() {
    const contents = [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'robot', parts: [{ text: 'beep' }] }];
    return (await client('bad_request').models.generateContent({ model: MODEL, contents })).text;
  },
  async quota_error() {
    const config = fault({ kind: 'error', code: 429, retry_after: 7 });
    return (await client('quota_error').models.generateContent({ model: MODEL, contents: 'x', config })).text;
  },
  async retries() {
    const ai = client('retries', { httpOptions: { retryOptions: { attempts: 4, initialDelay: 0.05, maxDelay: 0.2 } } });
    const config = fault({ kind: 'error', code: 503, times: 2 });
    return (await ai.models.generateContent({ model: MODEL, contents: 'fail twice, then answer', config })).text;
  },
  async midstream() {
    const got = [];
    try {
      const config = fault({ kind: 'midstream', after_chunks: 2, code: 503 });
      const stream = await client('midstream').models.generateContentStream({ model: MODEL, contents: 'Tell me a story', config });
      for await (const chunk of stream) got.push(chunk.text);
    } catch (e) {
      return { chunks: got.length, name: e.name, status: e.status, message: e.message };
    }
    return { chunks: got.length, name: null };
  },
  async blocked() {
    const r = await client('blocked').models.generateContent({ model: MODEL, contents: 'x', config: fault({ kind: 'block' }) });
    return { block: r.promptFeedback?.blockReason ?? null, text: r.text ?? null };
  },
  async function_calling() {
    return roundTrip('function_calling', MODEL);
  },
  async function_calling_gemini_3() {
    return roundTrip('function_calling_gemini_3', 'gemini-3-flash-preview');
  },
  async connection_faults() {
    // What the SDK raises for each connection-level fault, unary and after one streamed chunk.
    const ai = client('connection_faults');
    const outcome = async (call) => {
      try {
        await call();
        return { raised: false };
      } catch (e) {
        return { raised: true, name: e.name ?? null, status: e.status ?? null };
      }
    };
    const found = {};
    for (const kind of ['reset', 'empty', 'garbage', 'malformed']) {
      found[kind] = await outcome(() => ai.models.generateContent({ model: MODEL, contents: 'x', config: fault({ kind }) }));
      found[`${kind} in stream`] = await outcome(async () => drain(await ai.models.generateContentStream({
        model: MODEL, contents: 'a story', config: fault({ kind, after_chunks: 1 }),
      })));
    }
    const started = Date.now();
    found.stall = await outcome(async () => drain(await ai.models.generateContentStream({
      model: MODEL, contents: 'a story',
      config: { httpOptions: { ...fault({ kind: 'stall', after_chunks: 1, stall_seconds: 30 }).httpOptions, timeout: 1500 } },
    })));
    found.stall.seconds = (Date.now() - started) / 1000;
    const truncated = await drain(await ai.models.generateContentStream({
      model: MODEL, contents: 'a story', config: fault({ kind: 'truncate', after_chunks: 2 }),
    }));
    found.truncate = { chunks: truncated.length, finishes: truncated.map((c) => c.candidates?.[0]?.finishReason ?? null) };
    found.after = (await ai.models.generateContent({ model: MODEL, contents: 'still serving' })).text;
    return found;
  },
  async structured() {
    const config = {
      responseMimeType: 'application/json',
      responseJsonSchema: {
        type: 'object',
        properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
        required: ['name', 'tags'],
      },
    };
    const r = await client('structured').models.generateContent({ model: MODEL, contents: 'A pet', config });
    return JSON.parse(r.text);
  },
};

// Checks of Vertex AI alone (its own calls, catalogue and rules).
const vertexChecks = {
  async compute_tokens() {
    const ai = client('compute_tokens');
    const contents = [{ role: 'user', parts: [{ text: 'Hello there, how are you?' }] }];
    const computed = await ai.models.computeTokens({ model: MODEL, contents });
    const counted = await ai.models.countTokens({ model: MODEL, contents });
    return {
      roles: computed.tokensInfo.map((i) => i.role),
      tokens: computed.tokensInfo.map((i) => i.tokens.length),
      ids: computed.tokensInfo.map((i) => i.tokenIds.length),
      counted: counted.totalTokens,
    };
  },
  async vertex_embed() {
    const ai = client('vertex_embed');
    const config = { outputDimensionality: 32 };
    const found = {};
    for (const model of ['text-embedding-005', 'gemini-embedding-001']) {
      const r = await ai.models.embedContent({ model, contents: ['first', 'second words'], config });
      found[model] = r.embeddings.map((e) => ({
        size: e.values.length, norm: Math.hypot(...e.values), tokens: e.statistics?.tokenCount ?? null,
      }));
    }
    return found;
  },
  async vertex_models() {
    const ai = client('vertex_models');
    const names = [];
    for await (const model of await ai.models.list({ config: { pageSize: 5 } })) names.push(model.name);
    const one = await ai.models.get({ model: MODEL });
    return { names, get: { name: one.name, version: one.version } };
  },
  async empty_text() {
    const contents = [{ role: 'user', parts: [{ text: '' }] }];
    return (await client('empty_text').models.generateContent({ model: MODEL, contents })).text;
  },
};

// Checks that hold the Developer API alone to its own forms: its other API version, its embedding call,
// its catalogue, and its quota details.
const DEVELOPER_ONLY = new Set(['generate_v1beta', 'embed', 'models', 'quota_error']);
// What express mode, a Vertex AI client on an API key, runs too.
const EXPRESS = new Set(['generate', 'stream', 'chat', 'count_tokens', 'compute_tokens', 'vertex_models', 'unknown_model']);

function applies(f, name) {
  if (f === 'developer') return !(name in vertexChecks);
  if (f === 'express' && !EXPRESS.has(name)) return false;
  return !DEVELOPER_ONLY.has(name);
}

const only = process.argv.slice(2);
const results = {};
for (const f of FLAVOURS) {
  flavour = f;
  results[f] = {};
  for (const [name, check] of Object.entries({ ...checks, ...vertexChecks })) {
    if ((only.length && !only.includes(name)) || !applies(f, name)) continue;
    try {
      results[f][name] = { ok: true, value: await check() };
    } catch (e) {
      results[f][name] = { ok: false, error: String(e.message ?? e), name: e.name ?? null, status: e.status ?? null };
    }
  }
}
console.log(JSON.stringify(results));
