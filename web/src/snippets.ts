/**
 * Copy-and-paste examples for calling the API from code: curl and the official `openai` clients. The key is
 * referred to by an environment variable, so a snippet can be shared without leaking it.
 */
export const KEY_VARIABLE = 'CHATSTACK_API_KEY';

export interface Snippet {
  readonly id: 'curl' | 'node' | 'python';
  readonly label: string;
  readonly code: string;
}

export function apiSnippets(apiBaseUrl: string, model = 'chatstack-default'): readonly Snippet[] {
  const baseURL = `${apiBaseUrl}/v1`;
  return [
    {
      id: 'curl',
      label: 'curl',
      code: [
        `curl ${baseURL}/chat/completions \\`,
        `  -H "Authorization: Bearer $${KEY_VARIABLE}" \\`,
        '  -H "Content-Type: application/json" \\',
        `  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
      ].join('\n'),
    },
    {
      id: 'node',
      label: 'openai (Node.js)',
      code: [
        "import OpenAI from 'openai';",
        '',
        `const client = new OpenAI({ baseURL: '${baseURL}', apiKey: process.env.${KEY_VARIABLE} });`,
        'const completion = await client.chat.completions.create({',
        `  model: '${model}',`,
        "  messages: [{ role: 'user', content: 'Hello!' }],",
        '});',
        'console.log(completion.choices[0].message.content);',
      ].join('\n'),
    },
    {
      id: 'python',
      label: 'openai (Python)',
      code: [
        'import os',
        'from openai import OpenAI',
        '',
        `client = OpenAI(base_url="${baseURL}", api_key=os.environ["${KEY_VARIABLE}"])`,
        'completion = client.chat.completions.create(',
        `    model="${model}",`,
        '    messages=[{"role": "user", "content": "Hello!"}],',
        ')',
        'print(completion.choices[0].message.content)',
      ].join('\n'),
    },
  ];
}
