import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import {
  type EndpointFamily,
  type ErrorKind,
  FAMILIES,
  familyFor,
  gatedFamilyFor,
  isImageFamily,
  type PromptFacts,
  statusFor,
} from '../../../src/main/core/guard/endpoints/endpoint-family.js';
import {
  AUDIO_TOKENS,
  estimateTokens,
  FILE_TOKENS,
  IMAGE_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
  NODE_BUDGET,
} from '../../../src/main/core/guard/endpoints/prompt-counter.js';
import { type JsonBodyLimits, parseJsonBody } from '../../../src/main/core/guard/json-body.js';
import { estimateTokens as legacyEstimate } from '../../../src/main/core/guard/token-estimate.js';

type Json = Record<string, unknown>;

const family = (path: string): EndpointFamily => {
  const f = familyFor(path);
  assert.ok(f, `no family for ${path}`);
  return f;
};
const chat = family('/v1/chat/completions');
const responses = family('/v1/responses');
const anthropic = family('/v1/messages');
const ollamaChat = family('/ollama/api/chat');
const ollamaGenerate = family('/ollama/api/generate');

const factsOf = (f: EndpointFamily, body: Json): PromptFacts => {
  const r = f.facts(body);
  assert.ok(r.ok, `facts refused: ${JSON.stringify(r)}`);
  return r.facts;
};
const tokens = (f: EndpointFamily, body: Json): number => factsOf(f, body).promptTokens;
const clone = (body: Json): Json => structuredClone(body);

/** 600 ASCII characters: 200 tokens by the heuristic. */
const TEXT = 'lorem ipsum '.repeat(50);
const TEXT_TOKENS = estimateTokens(TEXT);

describe('family registry and statuses', () => {
  it('maps every canonical POST path EXO serves to its family, and nothing else', () => {
    const expected: Record<string, string> = {
      '/v1/chat/completions': 'openai-chat',
      '/bench/chat/completions': 'openai-chat',
      '/ollama/v1/chat/completions': 'openai-chat',
      '/v1/responses': 'openai-responses',
      '/v1/messages': 'anthropic',
      '/ollama/api/chat': 'ollama',
      '/ollama/api/api/chat': 'ollama',
      '/ollama/api/v1/chat': 'ollama',
      '/ollama/api/generate': 'ollama',
    };
    for (const [path, protocol] of Object.entries(expected))
      assert.equal(family(path).protocol, protocol, path);
    assert.deepEqual(FAMILIES.flatMap((f) => f.paths).sort(), Object.keys(expected).sort());
    for (const other of [
      '/v1/models',
      '/state',
      '/v1/chat/completions/',
      '/ollama/api/tags',
      '/v1/completions',
      '',
    ])
      assert.equal(familyFor(other), null, other);
    assert.equal(ollamaChat.streamFraming, 'ndjson');
    assert.equal(ollamaGenerate.streamFraming, 'ndjson');
    for (const f of [chat, responses, anthropic]) assert.equal(f.streamFraming, 'sse');
  });

  it('answers each kind with its HTTP status', () => {
    const table: Record<ErrorKind, number> = {
      context_length_exceeded: 400,
      invalid_request: 400,
      payload_too_large: 413,
      overloaded: 503,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      upstream_unavailable: 502,
      internal: 500,
    };
    for (const [kind, status] of Object.entries(table))
      assert.equal(statusFor(kind as ErrorKind), status, kind);
  });
});

describe('token heuristic', () => {
  it('keeps estimateTokens: ASCII / 3 rounded up, one per other code point (the old module re-exports it)', () => {
    assert.equal(estimateTokens(''), 0);
    assert.equal(estimateTokens('abc'), 1);
    assert.equal(estimateTokens('abcd'), 2);
    assert.equal(estimateTokens('日本語'), 3);
    assert.equal(estimateTokens('ab日'), 2);
    assert.equal(estimateTokens('😀😀'), 2, 'a surrogate pair is one character');
    assert.equal(estimateTokens('\ud800x'), 2, 'a lone surrogate counts once');
    assert.equal(legacyEstimate('a'.repeat(3000) + 'é'.repeat(10)), 1010);
  });
});

/** For each family: a small valid body and ways of adding TEXT to every prompt-bearing field. */
interface FieldCase {
  name: string;
  family: EndpointFamily;
  base: Json;
  add: (body: Json, text: string) => void;
}

const chatBase = (): Json => ({
  model: 'mlx-community/Llama-3.3-70B-Instruct-4bit',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Hi' }], name: 'ann' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"q":1}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    { role: 'assistant', content: null, function_call: { name: 'g', arguments: '{}' } },
  ],
  tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } }],
  functions: [{ name: 'g', description: 'd', parameters: { type: 'object' } }],
  tool_choice: { type: 'function', function: { name: 'f' } },
  response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' } } },
});
const msgs = (b: Json): Json[] => b['messages'] as Json[];

const responsesBase = (): Json => ({
  model: 'm',
  instructions: 'Be brief.',
  input: [
    { role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
    { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
    { type: 'function_call_output', call_id: 'c1', output: 'ok' },
    { type: 'reasoning', id: 'r1', summary: [{ type: 'summary_text', text: 's' }], encrypted_content: 'xyz' },
  ],
  tools: [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' } }],
  text: { format: { type: 'json_schema', name: 's', schema: { type: 'object' } } },
});
const items = (b: Json): Json[] => b['input'] as Json[];

const anthropicBase = (): Json => ({
  model: 'm',
  max_tokens: 1024,
  system: 'Be brief.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 't', signature: 'sig' },
        { type: 'tool_use', id: 'tu1', name: 'f', input: { q: 'x' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'tu1', content: 'ok' },
        { type: 'tool_result', tool_use_id: 'tu2', content: [{ type: 'text', text: 'ok' }] },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } },
      ],
    },
  ],
  tools: [{ name: 'f', description: 'd', input_schema: { type: 'object', properties: {} } }],
});
const blocks = (b: Json, i: number): Json[] => msgs(b)[i]!['content'] as Json[];

const ollamaChatBase = (): Json => ({
  model: 'm',
  messages: [
    { role: 'user', content: 'Hi' },
    {
      role: 'assistant',
      content: '',
      thinking: 't',
      tool_calls: [{ function: { name: 'f', arguments: { q: 1 } } }],
    },
    { role: 'tool', tool_name: 'f', content: 'ok' },
  ],
  tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } }],
  format: { type: 'object', properties: {} },
});

const ollamaGenerateBase = (): Json => ({
  model: 'm',
  prompt: 'Hi',
  system: 's',
  template: '{{ .Prompt }}',
  suffix: 'x',
  context: [1, 2, 3],
});

const FIELD_CASES: FieldCase[] = [
  // Chat Completions
  {
    name: 'chat system content',
    family: chat,
    base: chatBase(),
    add: (b, t) => (msgs(b)[0]!['content'] += t),
  },
  {
    name: 'chat text part',
    family: chat,
    base: chatBase(),
    add: (b, t) => ((msgs(b)[1]!['content'] as Json[])[0]!['text'] += t),
  },
  { name: 'chat message name', family: chat, base: chatBase(), add: (b, t) => (msgs(b)[1]!['name'] += t) },
  {
    name: 'chat tool call arguments',
    family: chat,
    base: chatBase(),
    add: (b, t) => {
      const fn = (msgs(b)[2]!['tool_calls'] as Json[])[0]!['function'] as Json;
      fn['arguments'] = JSON.stringify({ q: t });
    },
  },
  {
    name: 'chat tool call name',
    family: chat,
    base: chatBase(),
    add: (b, t) => (((msgs(b)[2]!['tool_calls'] as Json[])[0]!['function'] as Json)['name'] += t),
  },
  { name: 'chat tool result', family: chat, base: chatBase(), add: (b, t) => (msgs(b)[3]!['content'] += t) },
  {
    name: 'chat legacy function_call',
    family: chat,
    base: chatBase(),
    add: (b, t) => ((msgs(b)[4]!['function_call'] as Json)['arguments'] += t),
  },
  {
    name: 'chat tools description',
    family: chat,
    base: chatBase(),
    add: (b, t) => (((b['tools'] as Json[])[0]!['function'] as Json)['description'] += t),
  },
  {
    name: 'chat functions',
    family: chat,
    base: chatBase(),
    add: (b, t) => ((b['functions'] as Json[])[0]!['description'] += t),
  },
  {
    name: 'chat tool_choice',
    family: chat,
    base: chatBase(),
    add: (b, t) => (((b['tool_choice'] as Json)['function'] as Json)['name'] += t),
  },
  {
    name: 'chat response_format schema',
    family: chat,
    base: chatBase(),
    add: (b, t) => {
      ((b['response_format'] as Json)['json_schema'] as Json)['description'] = t;
    },
  },
  // Responses
  {
    name: 'responses instructions',
    family: responses,
    base: responsesBase(),
    add: (b, t) => (b['instructions'] += t),
  },
  {
    name: 'responses input string',
    family: responses,
    base: { model: 'm', input: 'Hi' },
    add: (b, t) => (b['input'] += t),
  },
  {
    name: 'responses input_text',
    family: responses,
    base: responsesBase(),
    add: (b, t) => ((items(b)[0]!['content'] as Json[])[0]!['text'] += t),
  },
  {
    name: 'responses function_call arguments',
    family: responses,
    base: responsesBase(),
    add: (b, t) => (items(b)[1]!['arguments'] += t),
  },
  {
    name: 'responses function_call_output',
    family: responses,
    base: responsesBase(),
    add: (b, t) => (items(b)[2]!['output'] += t),
  },
  {
    name: 'responses reasoning summary',
    family: responses,
    base: responsesBase(),
    add: (b, t) => ((items(b)[3]!['summary'] as Json[])[0]!['text'] += t),
  },
  {
    name: 'responses tools',
    family: responses,
    base: responsesBase(),
    add: (b, t) => ((b['tools'] as Json[])[0]!['description'] += t),
  },
  {
    name: 'responses text.format schema',
    family: responses,
    base: responsesBase(),
    add: (b, t) => {
      ((b['text'] as Json)['format'] as Json)['description'] = t;
    },
  },
  // Anthropic
  {
    name: 'anthropic system string',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => (b['system'] += t),
  },
  {
    name: 'anthropic system blocks',
    family: anthropic,
    base: { ...anthropicBase(), system: [{ type: 'text', text: 'Be brief.' }] },
    add: (b, t) => ((b['system'] as Json[])[0]!['text'] += t),
  },
  {
    name: 'anthropic text block',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => (blocks(b, 0)[0]!['text'] += t),
  },
  {
    name: 'anthropic thinking',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => (blocks(b, 1)[0]!['thinking'] += t),
  },
  {
    name: 'anthropic tool_use input',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => ((blocks(b, 1)[1]!['input'] as Json)['q'] += t),
  },
  {
    name: 'anthropic tool_result string',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => (blocks(b, 2)[0]!['content'] += t),
  },
  {
    name: 'anthropic tool_result blocks',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => ((blocks(b, 2)[1]!['content'] as Json[])[0]!['text'] += t),
  },
  {
    name: 'anthropic text document',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => ((blocks(b, 2)[2]!['source'] as Json)['data'] += t),
  },
  {
    name: 'anthropic tool description',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => ((b['tools'] as Json[])[0]!['description'] += t),
  },
  {
    name: 'anthropic tool input_schema',
    family: anthropic,
    base: anthropicBase(),
    add: (b, t) => {
      ((b['tools'] as Json[])[0]!['input_schema'] as Json)['description'] = t;
    },
  },
  // Ollama chat
  {
    name: 'ollama content',
    family: ollamaChat,
    base: ollamaChatBase(),
    add: (b, t) => (msgs(b)[0]!['content'] += t),
  },
  {
    name: 'ollama thinking',
    family: ollamaChat,
    base: ollamaChatBase(),
    add: (b, t) => (msgs(b)[1]!['thinking'] += t),
  },
  {
    name: 'ollama tool_calls arguments',
    family: ollamaChat,
    base: ollamaChatBase(),
    add: (b, t) => {
      (((msgs(b)[1]!['tool_calls'] as Json[])[0]!['function'] as Json)['arguments'] as Json)['q'] = t;
    },
  },
  {
    name: 'ollama tool result',
    family: ollamaChat,
    base: ollamaChatBase(),
    add: (b, t) => (msgs(b)[2]!['content'] += t),
  },
  {
    name: 'ollama tools',
    family: ollamaChat,
    base: ollamaChatBase(),
    add: (b, t) => (((b['tools'] as Json[])[0]!['function'] as Json)['description'] += t),
  },
  {
    name: 'ollama format schema',
    family: ollamaChat,
    base: ollamaChatBase(),
    add: (b, t) => {
      (b['format'] as Json)['description'] = t;
    },
  },
  // Ollama generate
  ...(['prompt', 'system', 'template', 'suffix'] as const).map(
    (key): FieldCase => ({
      name: `ollama generate ${key}`,
      family: ollamaGenerate,
      base: ollamaGenerateBase(),
      add: (b, t) => (b[key] += t),
    }),
  ),
];

describe('prompt counting over every prompt-bearing field', () => {
  for (const c of FIELD_CASES) {
    it(`${c.name}: adding 600 characters adds their ~200 tokens`, () => {
      const before = tokens(c.family, c.base);
      const body = clone(c.base);
      c.add(body, TEXT);
      const after = tokens(c.family, body);
      // The heuristic rounds once per body, so the rise is the text's tokens ± 1 (plus JSON punctuation).
      assert.ok(after - before >= TEXT_TOKENS - 1, `${c.name}: ${before} → ${after}`);
      assert.ok(after - before <= TEXT_TOKENS + 10, `${c.name}: ${before} → ${after}`);
    });
  }

  it('adds the template overhead per message', () => {
    const one = tokens(chat, { messages: [{ role: 'user', content: 'abc' }] });
    const two = tokens(chat, {
      messages: [
        { role: 'user', content: 'abc' },
        { role: 'user', content: 'abc' },
      ],
    });
    assert.equal(one, MESSAGE_OVERHEAD_TOKENS + 1);
    assert.equal(two, 2 * MESSAGE_OVERHEAD_TOKENS + 2);
  });

  it('counts each Ollama context token id as one token', () => {
    const base = tokens(ollamaGenerate, { prompt: 'Hi' });
    assert.equal(tokens(ollamaGenerate, { prompt: 'Hi', context: new Array(5000).fill(42) }), base + 5000);
  });

  it('counts an empty body as zero and a missing message list as nothing', () => {
    for (const f of FAMILIES) assert.equal(tokens(f, {}), 0, f.paths[0]);
  });
});

describe('images, audio and files cost a fixed amount whatever their size', () => {
  const small = 'iVBORw0KGgo=';
  const big = 'A'.repeat(1_000_000);
  const cases: Array<[string, EndpointFamily, (data: string) => Json]> = [
    [
      'chat image_url (data URL)',
      chat,
      (d) => ({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${d}` } }],
          },
        ],
      }),
    ],
    [
      'bench chat image_url',
      family('/bench/chat/completions'),
      (d) => ({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: d } }] }] }),
    ],
    [
      'responses input_image',
      responses,
      (d) => ({
        input: [
          { role: 'user', content: [{ type: 'input_image', image_url: `data:image/png;base64,${d}` }] },
        ],
      }),
    ],
    [
      'anthropic image block',
      anthropic,
      (d) => ({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: d } }],
          },
        ],
      }),
    ],
    [
      'anthropic image inside a tool_result',
      anthropic,
      (d) => ({
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't',
                content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: d } }],
              },
            ],
          },
        ],
      }),
    ],
    ['ollama chat images[]', ollamaChat, (d) => ({ messages: [{ role: 'user', content: '', images: [d] }] })],
    ['ollama generate images[]', ollamaGenerate, (d) => ({ prompt: '', images: [d] })],
  ];
  for (const [name, f, body] of cases) {
    it(`${name}: ${IMAGE_TOKENS} tokens for 12 bytes or 1 MB of base64`, () => {
      const a = factsOf(f, body(small));
      const b = factsOf(f, body(big));
      assert.equal(a.promptTokens, b.promptTokens);
      assert.equal(a.images, 1);
      assert.equal(b.images, 1);
      const withoutImage = tokens(
        f,
        JSON.parse(JSON.stringify(body(small)).replace(/"images":\["[^"]*"\]/, '"images":[]')),
      );
      if (name.startsWith('ollama')) assert.equal(a.promptTokens - withoutImage, IMAGE_TOKENS);
      assert.ok(b.promptTokens < IMAGE_TOKENS + 50, `${name}: ${b.promptTokens}`);
    });
  }

  it('counts data URLs inside items it does not model as media, not as base64 text', () => {
    const screenshot = (d: string): Json => ({
      input: [
        { type: 'computer_call_output', call_id: 'c', output: { type: 'computer_screenshot', image_url: d } },
      ],
    });
    const a = factsOf(responses, screenshot('data:image/png;base64,AAAA'));
    const b = factsOf(responses, screenshot(`data:image/png;base64,${big}`));
    assert.equal(a.promptTokens, b.promptTokens);
    assert.equal(b.images, 1);
    assert.ok(b.promptTokens < IMAGE_TOKENS + 50, String(b.promptTokens));
    const pdf = factsOf(chat, {
      messages: [
        { role: 'user', content: [{ type: 'future_part', blob: `data:application/pdf;base64,${big}` }] },
      ],
    });
    assert.ok(
      pdf.promptTokens >= FILE_TOKENS && pdf.promptTokens < FILE_TOKENS + 50,
      String(pdf.promptTokens),
    );
  });

  it('a string that only starts with data: is text where templates print text (tools, formats, unknown fields)', () => {
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(2500); // 112,500 characters
    const floor = Math.floor(prose.length / 3);
    const tool = (description: string): Json => ({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', description, parameters: { type: 'object' } } }],
    });
    const shapes: Array<[string, EndpointFamily, Json]> = [
      ['a tool description', chat, tool(`data:image/png ${prose}`)],
      ['a tool description, base64 form', chat, tool(`data:image/png;base64,${'QUJD'.repeat(28_000)}`)],
      ['tool_choice', chat, { messages: [{ role: 'user', content: 'hi' }], tool_choice: `data:x ${prose}` }],
      [
        'a response format',
        chat,
        {
          messages: [{ role: 'user', content: 'hi' }],
          response_format: { type: 'json_schema', json_schema: { description: `data:text/plain,${prose}` } },
        },
      ],
      [
        'an unknown field EXO renders',
        responses,
        { input: 'hi', chat_template_messages: [{ role: 'user', content: `data:text/plain ${prose}` }] },
      ],
      ['content as an object', chat, { messages: [{ role: 'user', content: { data: `data:x ${prose}` } }] }],
      [
        'an unknown part',
        chat,
        { messages: [{ role: 'user', content: [{ type: 'future', blob: `data:${prose}` }] }] },
      ],
      [
        'an unknown Anthropic block',
        anthropic,
        {
          max_tokens: 10,
          messages: [{ role: 'user', content: [{ type: 'future', x: `data:image/png ${prose}` }] }],
        },
      ],
    ];
    const b64 = `data:image/png;base64,${'QUJD'.repeat(28_000)}`;
    shapes.push(
      [
        'content as one text part holding a data URL',
        chat,
        { messages: [{ role: 'user', content: { type: 'text', text: b64 } }] },
      ],
      [
        'a message thinking field',
        chat,
        {
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', content: 'ok', thinking: prose },
          ],
        },
      ],
      [
        'an unknown message field',
        chat,
        { messages: [{ role: 'user', content: 'hi', future: { text: prose } }] },
      ],
      [
        'an Anthropic content block on its own',
        anthropic,
        { max_tokens: 10, messages: [{ role: 'user', content: { type: 'text', text: b64 } }] },
      ],
      [
        'a Responses input item on its own',
        responses,
        { input: { role: 'user', content: [{ type: 'input_text', text: b64 }] } },
      ],
      [
        'a data URL under text in an unknown part',
        chat,
        { messages: [{ role: 'user', content: [{ type: 'future', text2: { text: b64 } }] }] },
      ],
    );
    shapes.push(
      [
        'an unknown Anthropic message field',
        anthropic,
        { max_tokens: 10, messages: [{ role: 'user', content: 'hi', future: prose }] },
      ],
      [
        'an unknown Responses message field',
        responses,
        { input: [{ role: 'user', content: 'hi', future: prose }] },
      ],
      [
        'an unknown Ollama message field',
        ollamaChat,
        { messages: [{ role: 'user', content: 'hi', future: prose }] },
      ],
    );
    shapes.push([
      'text riding on an image part',
      chat,
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://x/a.png' }, text: prose }],
          },
        ],
      },
    ]);
    for (const [name, f, body] of shapes) {
      const n = tokens(f, body);
      assert.ok(n >= Math.min(floor, 37_000), `${name}: ${n} tokens`);
    }
  });

  it('counts several images, and audio and file parts at their fixed costs', () => {
    const f = factsOf(chat, {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            { type: 'image_url', image_url: { url: 'https://example.com/b.png' } },
            { type: 'input_audio', input_audio: { data: 'A'.repeat(100_000), format: 'wav' } },
            { type: 'file', file: { file_data: 'A'.repeat(100_000), filename: 'x.pdf' } },
          ],
        },
      ],
    });
    assert.equal(f.images, 2);
    assert.equal(f.promptTokens, MESSAGE_OVERHEAD_TOKENS + 2 * IMAGE_TOKENS + AUDIO_TOKENS + FILE_TOKENS);
    const doc = factsOf(anthropic, {
      messages: [
        {
          role: 'user',
          content: [{ type: 'document', source: { type: 'base64', data: 'A'.repeat(100_000) } }],
        },
      ],
    });
    assert.equal(doc.promptTokens, MESSAGE_OVERHEAD_TOKENS + FILE_TOKENS);
  });
});

describe('output limit validation', () => {
  const bad: Array<[unknown, string]> = [
    [-1_000_000, '-1000000'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['100', '"100" (a string)'],
    [2 ** 31, '2147483648'],
    [1e300, '1e+300'],
    [Number.POSITIVE_INFINITY, 'Infinity (a number out of range)'], // what JSON's 1e400 parses to
    [true, 'true (a boolean)'],
    [{ n: 1 }, 'an object'],
    [[100], 'an array'],
  ];
  const fields: Array<[EndpointFamily, string, (v: unknown) => Json]> = [
    [chat, 'max_tokens', (v) => ({ max_tokens: v })],
    [chat, 'max_completion_tokens', (v) => ({ max_completion_tokens: v })],
    [responses, 'max_output_tokens', (v) => ({ max_output_tokens: v })],
    [anthropic, 'max_tokens', (v) => ({ max_tokens: v })],
    [ollamaChat, 'options.num_predict', (v) => ({ options: { num_predict: v } })],
    [ollamaGenerate, 'options.num_predict', (v) => ({ options: { num_predict: v } })],
  ];
  for (const [f, param, body] of fields) {
    it(`${f.paths[0]} ${param}: refuses negative, fractional, string, boolean and huge values by name`, () => {
      for (const [value, shown] of bad) {
        if (param === 'options.num_predict' && value === -1) continue; // Ollama's "unlimited"
        const r = f.facts(body(value));
        assert.ok(!r.ok, `${param}=${shown} was admitted`);
        assert.equal(r.param, param);
        assert.equal(r.message, `${param} must be an integer from 0 to 2147483647, got ${shown}`);
      }
      // EXO reads only max_tokens in chat: max_completion_tokens is validated but leaves EXO's default.
      const counted = param !== 'max_completion_tokens';
      for (const [value, expected] of [
        [null, null],
        [undefined, null],
        [0, null], // EXO runs `max_output_tokens or MAX_TOKENS`: 0 is its default
        [4096, counted ? 4096 : null],
        [2 ** 31 - 1, counted ? 2 ** 31 - 1 : null],
      ] as const)
        assert.equal(factsOf(f, body(value)).maxTokens, expected, `${param}=${value}`);
    });
  }

  it('truncates a long refused value in the message', () => {
    const r = chat.facts({ max_tokens: 'x'.repeat(10_000) });
    assert.ok(!r.ok && r.message.length < 120 && r.message.includes('…'), JSON.stringify(r));
  });

  it('counts max_tokens, the field EXO reads, never a smaller max_completion_tokens beside it', () => {
    assert.equal(factsOf(chat, { max_completion_tokens: 10, max_tokens: 1_000_000 }).maxTokens, 1_000_000);
    assert.equal(factsOf(chat, { max_completion_tokens: 10 }).maxTokens, null, "EXO's default applies");
    assert.equal(factsOf(chat, { max_completion_tokens: null, max_tokens: 200 }).maxTokens, 200);
    const r = chat.facts({ max_completion_tokens: 100, max_tokens: -5 });
    assert.ok(!r.ok && r.param === 'max_tokens');
    const c = chat.facts({ max_completion_tokens: -5, max_tokens: 100 });
    assert.ok(!c.ok && c.param === 'max_completion_tokens');
  });

  it('counts fields it does not know by name (EXO renders chat_template_messages), never sampling parameters', () => {
    const base = factsOf(responses, { input: 'hi', temperature: 0.2, top_p: 0.9, seed: 7 }).promptTokens;
    const hidden = factsOf(responses, {
      input: 'hi',
      chat_template_messages: [{ role: 'user', content: 'x'.repeat(30_000) }],
    }).promptTokens;
    assert.ok(hidden - base >= 10_000, `${hidden} vs ${base}`);
    for (const f of [chat, anthropic, ollamaChat, ollamaGenerate]) {
      const plain = factsOf(f, { temperature: 0.5, stream: true }).promptTokens;
      const extra = factsOf(f, { some_new_field: 'y'.repeat(3000) }).promptTokens;
      assert.ok(extra - plain >= 1000, `${f.paths[0]}: ${extra} vs ${plain}`);
    }
  });

  it("reads Ollama's -1 (unlimited) and -2 (fill the context) as no limit, and refuses other negatives", () => {
    assert.equal(factsOf(ollamaChat, { options: { num_predict: -1 } }).maxTokens, null);
    assert.equal(factsOf(ollamaGenerate, { options: { num_predict: -2 } }).maxTokens, null);
    assert.equal(factsOf(ollamaChat, { options: { temperature: 0 } }).maxTokens, null);
    const r = ollamaChat.facts({ options: { num_predict: -3 } });
    assert.ok(!r.ok && r.param === 'options.num_predict');
    const o = ollamaGenerate.facts({ options: 'fast' });
    assert.deepEqual(o, {
      ok: false,
      param: 'options',
      message: 'options must be an object, got "fast" (a string)',
    });
  });
});

describe('model and stream', () => {
  it('reads stream as each protocol defines it', () => {
    for (const f of [chat, responses, anthropic]) {
      assert.equal(factsOf(f, {}).stream, false);
      assert.equal(factsOf(f, { stream: true }).stream, true);
      assert.equal(factsOf(f, { stream: 'true' }).stream, false);
    }
    for (const f of [ollamaChat, ollamaGenerate]) {
      assert.equal(factsOf(f, {}).stream, true, 'Ollama streams by default');
      assert.equal(factsOf(f, { stream: false }).stream, false);
      assert.equal(factsOf(f, { stream: 0 }).stream, true);
    }
  });

  it('reads the model as a string (its first 200 characters: it is logged and stored) or null', () => {
    for (const f of FAMILIES) {
      assert.equal(factsOf(f, { model: 'mlx-community/Qwen3-30B' }).model, 'mlx-community/Qwen3-30B');
      assert.equal(factsOf(f, { model: 'q'.repeat(2_000_000) }).model, 'q'.repeat(200));
      assert.equal(factsOf(f, { model: 42 }).model, null);
      assert.equal(factsOf(f, {}).model, null);
    }
  });
});

describe('bounded walk', () => {
  it(`refuses a body with more than ${NODE_BUDGET} values to count, naming the body`, () => {
    const tools = new Array(NODE_BUDGET + 1).fill(0);
    for (const f of [chat, responses, anthropic, ollamaChat]) {
      const t0 = performance.now();
      const r = f.facts({ tools });
      assert.ok(
        !r.ok && r.param === 'body' && /more than 1000000 JSON values/.test(r.message),
        JSON.stringify(r),
      );
      assert.ok(performance.now() - t0 < 1000);
    }
    const many = chat.facts({ messages: new Array(NODE_BUDGET + 1).fill({ role: 'user', content: 'x' }) });
    assert.ok(!many.ok && many.param === 'body');
  });

  it('walks a 100,000-deep schema held in memory without recursion', () => {
    let deep: Json = { description: 'leaf' };
    for (let i = 0; i < 100_000; i++) deep = { properties: deep };
    for (const [f, body] of [
      [chat, { tools: [deep] }],
      [responses, { text: { format: deep } }],
      [
        anthropic,
        { messages: [{ role: 'assistant', content: [{ type: 'tool_use', name: 'f', input: deep }] }] },
      ],
      [ollamaChat, { format: deep }],
    ] as const) {
      const r = f.facts(body);
      assert.ok(r.ok && r.facts.promptTokens > 100_000, f.paths[0]);
    }
  });
});

describe('error bodies', () => {
  it('OpenAI families: {"error":{message,type,param,code}} with the conventional type and code', () => {
    assert.deepEqual(chat.errorBody('context_length_exceeded', 'too long'), {
      error: {
        message: 'too long',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    });
    assert.deepEqual(responses.errorBody('context_length_exceeded', 'too long'), {
      error: {
        message: 'too long',
        type: 'invalid_request_error',
        param: 'input',
        code: 'context_length_exceeded',
      },
    });
    assert.deepEqual(chat.errorBody('context_length_exceeded', 'x', 'prompt'), {
      error: {
        message: 'x',
        type: 'invalid_request_error',
        param: 'prompt',
        code: 'context_length_exceeded',
      },
    });
    assert.deepEqual(chat.errorBody('overloaded', 'busy'), {
      error: {
        message: 'busy',
        type: 'service_unavailable_error',
        param: null,
        code: 'server_is_overloaded',
      },
    });
    assert.deepEqual(responses.errorBody('invalid_request', 'bad', 'max_output_tokens'), {
      error: { message: 'bad', type: 'invalid_request_error', param: 'max_output_tokens', code: null },
    });
    const types: Record<ErrorKind, string> = {
      context_length_exceeded: 'invalid_request_error',
      overloaded: 'service_unavailable_error',
      invalid_request: 'invalid_request_error',
      payload_too_large: 'invalid_request_error',
      unauthorized: 'authentication_error',
      forbidden: 'permission_error',
      not_found: 'not_found_error',
      upstream_unavailable: 'server_error',
      internal: 'server_error',
    };
    for (const [kind, type] of Object.entries(types)) {
      const body = chat.errorBody(kind as ErrorKind, 'm') as { error: Json };
      assert.equal(body.error['type'], type, kind);
      assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code']);
    }
  });

  it('Anthropic: {"type":"error","error":{type,message}} with its documented types', () => {
    const types: Record<ErrorKind, string> = {
      context_length_exceeded: 'invalid_request_error',
      overloaded: 'overloaded_error',
      invalid_request: 'invalid_request_error',
      payload_too_large: 'request_too_large',
      unauthorized: 'authentication_error',
      forbidden: 'permission_error',
      not_found: 'not_found_error',
      upstream_unavailable: 'api_error',
      internal: 'api_error',
    };
    for (const [kind, type] of Object.entries(types))
      assert.deepEqual(anthropic.errorBody(kind as ErrorKind, 'm', 'max_tokens'), {
        type: 'error',
        error: { type, message: 'm' },
      });
  });

  it('Ollama: {"error":"message"}', () => {
    assert.deepEqual(ollamaChat.errorBody('overloaded', 'busy'), { error: 'busy' });
    assert.deepEqual(ollamaGenerate.errorBody('context_length_exceeded', 'too long'), { error: 'too long' });
  });
});

/** Every SSE event in a text, as eventsource-parser (v3) reads it. */
function sseEvents(text: string, chunk = text.length): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  for (let i = 0; i < text.length; i += chunk) parser.feed(text.slice(i, i + chunk));
  return events;
}

describe('stream error frames, read with each protocol’s own framing', () => {
  const message = 'guard: memory pressure critical\r\nretry in 30 s — “quoted” \u2028 😀';
  const ALL_KINDS: ErrorKind[] = [
    'overloaded',
    'context_length_exceeded',
    'internal',
    'upstream_unavailable',
  ];

  it('OpenAI chat: one `data:` event whose JSON has error.message (what openai-python / -node raise on)', () => {
    for (const path of ['/v1/chat/completions', '/bench/chat/completions', '/ollama/v1/chat/completions']) {
      const frame = family(path).streamErrorFrame('overloaded', message);
      assert.ok(frame.endsWith('\n\n'));
      for (const chunk of [frame.length, 1, 7]) {
        const events = sseEvents(frame, chunk);
        assert.equal(events.length, 1);
        assert.equal(events[0]!.event, undefined);
        const data = JSON.parse(events[0]!.data) as { error: Json };
        assert.equal(data.error['message'], message);
        assert.equal(data.error['type'], 'service_unavailable_error');
        assert.equal(data.error['code'], 'server_is_overloaded');
      }
    }
  });

  it('OpenAI Responses: one `event: error` with type, code, message, param (and the error object)', () => {
    for (const kind of ALL_KINDS) {
      const events = sseEvents(responses.streamErrorFrame(kind, message), 5);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.event, 'error');
      const data = JSON.parse(events[0]!.data) as Json;
      assert.equal(data['type'], 'error');
      assert.equal(data['message'], message);
      assert.equal(data['param'], null);
      assert.equal(data['code'], (chat.errorBody(kind, '') as { error: Json }).error['code']);
      assert.equal((data['error'] as Json)['message'], message);
    }
  });

  it('Anthropic: one `event: error` with {"type":"error","error":{type,message}} for the kind given', () => {
    for (const [kind, type] of [
      ['overloaded', 'overloaded_error'],
      ['context_length_exceeded', 'invalid_request_error'],
      ['internal', 'api_error'],
    ] as const) {
      const events = sseEvents(anthropic.streamErrorFrame(kind, message), 3);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.event, 'error');
      assert.deepEqual(JSON.parse(events[0]!.data), { type: 'error', error: { type, message } });
    }
  });

  it('Ollama: one NDJSON line {"error":…} (what ollama-python / ollama-js raise on)', () => {
    for (const f of [ollamaChat, ollamaGenerate]) {
      for (const kind of ALL_KINDS) {
        const frame = f.streamErrorFrame(kind, message);
        assert.ok(frame.endsWith('\n'));
        const lines = frame.split('\n');
        assert.deepEqual(lines.slice(1), ['']);
        assert.deepEqual(JSON.parse(lines[0]!), { error: message });
      }
    }
  });

  it('each frame is complete: an event already in flight is not merged into it', () => {
    for (const f of [chat, responses, anthropic]) {
      const prefix = 'data: {"id":"c1","object":"chat.completion","choices":[]}\n\n: keep-alive\n\n';
      const events = sseEvents(prefix + f.streamErrorFrame('overloaded', 'x') + 'data: [DONE]\n\n');
      assert.equal(events.length, 3);
      assert.match(events[1]!.data, /"x"/);
    }
  });
});

describe('parseJsonBody', () => {
  const limits: JsonBodyLimits = { maxDepth: 64, maxArrayItems: 1000 };
  const parse = (s: string | Buffer, l = limits) =>
    parseJsonBody(typeof s === 'string' ? Buffer.from(s) : s, l);

  it('returns the object of a valid body', () => {
    assert.deepEqual(parse('{"model":"m","messages":[{"role":"user","content":"hé"}]}'), {
      ok: true,
      value: { model: 'm', messages: [{ role: 'user', content: 'hé' }] },
    });
    assert.deepEqual(parse('\ufeff {"a":1} '), { ok: true, value: { a: 1 } }, 'a UTF-8 BOM is accepted');
  });

  it('refuses nesting deeper than the limit, naming the depth and the byte', () => {
    const body = '{"a":' + '['.repeat(70) + ']'.repeat(70) + '}';
    assert.deepEqual(parse(body), { ok: false, message: 'nesting deeper than 64 at byte 68' });
    assert.ok(parse('{"a":' + '['.repeat(63) + ']'.repeat(63) + '}').ok, '64 levels are allowed');
    // Brackets inside strings (escaped quotes included) are not structure.
    assert.ok(parse(`{"a":"${'['.repeat(1000)}\\"${'{'.repeat(1000)}"}`).ok);
  });

  it('refuses arrays and strings over their limits', () => {
    assert.deepEqual(parse(`{"a":[${new Array(1001).fill(1).join(',')}]}`), {
      ok: false,
      message: 'array of more than 1000 items at byte 2005',
    });
    assert.ok(parse(`{"a":[${new Array(1000).fill(1).join(',')}]}`).ok);
    assert.ok(parse(`{"a":"${','.repeat(5000)}"}`).ok, 'commas in strings are not items');
    assert.deepEqual(parse('{"a":"12345"}', { ...limits, maxStringBytes: 4 }), {
      ok: false,
      message: 'string longer than 4 bytes at byte 5',
    });
  });

  it('refuses invalid UTF-8 at its byte, non-JSON, and non-objects', () => {
    assert.deepEqual(parse(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])), {
      ok: false,
      message: 'body is not valid UTF-8 at byte 6',
    });
    assert.deepEqual(parse(Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d])), {
      ok: false,
      message: 'body is not valid UTF-8 at byte 1',
    });
    assert.deepEqual(parse(''), { ok: false, message: 'body is empty, expected a JSON object' });
    assert.match((parse('{"a":}') as { message: string }).message, /^body is not JSON: /);
    assert.deepEqual(parse('[1]'), { ok: false, message: 'body is an array, expected a JSON object' });
    assert.deepEqual(parse('null'), { ok: false, message: 'body is null, expected a JSON object' });
    assert.deepEqual(parse('"x"'), { ok: false, message: 'body is a string, expected a JSON object' });
  });
});

describe("EXO's image endpoints", () => {
  const paths = [
    '/v1/images/generations',
    '/bench/images/generations',
    '/v1/images/edits',
    '/bench/images/edits',
  ];
  const images = gatedFamilyFor(paths[0]!);

  it('are gated as one family without a prompt, and are no prompt family', () => {
    assert.ok(images && isImageFamily(images));
    assert.equal(images.protocol, 'exo-images');
    assert.equal(images.streamFraming, 'sse');
    for (const p of paths) {
      assert.equal(gatedFamilyFor(p), images, p);
      assert.equal(familyFor(p), null, p);
    }
    for (const p of ['/images', '/v1/images/abc', '/v1/images/generations/'])
      assert.equal(gatedFamilyFor(p), null, p);
    assert.equal(gatedFamilyFor('/v1/chat/completions'), chat);
  });

  it("spell errors as EXO's HTTPException envelope, the HTTP status as the code", () => {
    assert.ok(images);
    assert.deepEqual(images.errorBody('overloaded', 'busy'), {
      error: { message: 'busy', type: 'Service Unavailable', param: null, code: 503 },
    });
    assert.deepEqual(images.errorBody('upstream_unavailable', 'EXO is silent', null, 504), {
      error: { message: 'EXO is silent', type: 'Gateway Timeout', param: null, code: 504 },
    });
    assert.deepEqual(images.errorBody('payload_too_large', 'big').error, {
      message: 'big',
      type: 'Content Too Large',
      param: null,
      code: 413,
    });
    assert.equal(
      images.streamErrorFrame('overloaded', 'cancelled'),
      'data: {"error":{"message":"cancelled","type":"Service Unavailable","param":null,"code":503}}\n\n',
    );
  });

  it('read a JSON body for the log only: EXO streams only with partial_images, never on /bench/', () => {
    assert.ok(images && isImageFamily(images));
    const d = images.describe;
    assert.deepEqual(d(null, paths[2]!), { model: null, stream: null, images: null });
    assert.deepEqual(d({ model: 'm', prompt: 'p' }, paths[0]!), { model: 'm', stream: false, images: 1 });
    assert.deepEqual(d({ model: 'm', stream: true }, paths[0]!), { model: 'm', stream: false, images: 1 });
    assert.deepEqual(d({ model: 'm', stream: true, partial_images: 2, n: 3 }, paths[0]!), {
      model: 'm',
      stream: true,
      images: 3,
    });
    assert.equal(d({ stream: true, partial_images: 2 }, paths[1]!).stream, false);
    assert.deepEqual(d({ model: 7, n: -1 }, paths[0]!), { model: null, stream: false, images: null });
  });
});
