// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../web/src/markdown';

function render(markdown: string): HTMLElement {
  const container = document.createElement('div');
  container.innerHTML = renderMarkdown(markdown);
  return container;
}

describe('renderMarkdown', () => {
  it('shows raw HTML from the model as text, never as markup', () => {
    const container = render(
      'Hello <script>alert(1)</script> <b onmouseover="x()">bold</b>\n\n<iframe src="https://evil.example"></iframe>',
    );

    expect(container.querySelector('script, iframe, b')).toBeNull();
    expect(container.textContent).toContain('<script>alert(1)</script>');
    expect(container.innerHTML).not.toMatch(/<(script|iframe)/i);
  });

  it('never renders an image: it becomes a link the reader may choose to open', () => {
    const container = render('![tracking pixel](https://tracker.example/p.gif)');

    expect(container.querySelector('img')).toBeNull();
    const link = container.querySelector('a');
    expect(link?.getAttribute('href')).toBe('https://tracker.example/p.gif');
    expect(link?.textContent).toContain('tracking pixel');
  });

  it('drops links to javascript: and data: URLs and opens web links safely', () => {
    const container = render(
      '[click](javascript:alert(1)) [data](data:text/html,hi) [docs](https://example.com/a)',
    );

    const links = [...container.querySelectorAll('a')];
    expect(links.map((link) => link.getAttribute('href'))).toEqual(['https://example.com/a']);
    expect(links[0]?.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(links[0]?.getAttribute('target')).toBe('_blank');
    expect(container.textContent).toContain('click');
  });

  it('highlights code blocks in a known language and escapes the rest', () => {
    const container = render('```ts\nconst answer: number = 42;\n```\n\n```nonsense\n<b>not bold</b>\n```');

    const blocks = container.querySelectorAll('pre code');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]?.className).toContain('language-ts');
    expect(blocks[0]?.querySelector('.hljs-keyword')?.textContent).toBe('const');
    expect(blocks[1]?.querySelector('b')).toBeNull();
    expect(blocks[1]?.textContent).toBe('<b>not bold</b>');
  });

  it('renders the usual chat Markdown: emphasis, lists, tables, line breaks', () => {
    const container = render(
      '**bold** and *it*\nnext line\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |',
    );

    expect(container.querySelector('strong')?.textContent).toBe('bold');
    expect(container.querySelector('p br')).not.toBeNull();
    expect(container.querySelectorAll('li')).toHaveLength(2);
    expect(container.querySelector('td')?.textContent).toBe('1');
  });

  it('renders a half-streamed code fence without breaking', () => {
    const container = render('Here:\n\n```python\ndef f(');

    expect(container.querySelector('pre code')?.textContent).toContain('def f(');
  });
});
