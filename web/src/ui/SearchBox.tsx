import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import { describeProblem } from '../errors';
import { highlightSegments, type SearchHit, searchConversations } from '../find-api';
import '../find.css';

const DEBOUNCE_MS = 250;
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** Text with the matched words in `<mark>`: text nodes only, whatever the snippet contains. */
function Highlighted({ hit }: { hit: SearchHit }) {
  return (
    <>
      {highlightSegments(hit.snippet).map((segment, index) =>
        segment.marked ? <mark key={index}>{segment.text}</mark> : <span key={index}>{segment.text}</span>,
      )}
    </>
  );
}

/**
 * Search across the user's conversations, in the sidebar: Ctrl/⌘+K focuses it, results (newest first) show the
 * snippet around the match with the words highlighted; arrows move, Enter or a click opens, Escape clears.
 */
export function SearchBox({ api, onOpen }: { api: ApiClient; onOpen: (conversationId: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<readonly SearchHit[] | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [active, setActive] = useState(0);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key.toLowerCase() === 'k' && (event.ctrlKey || event.metaKey) && !event.altKey) {
        event.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);

  // One request per pause in typing; a newer query aborts the one before.
  useEffect(() => {
    const q = query.trim();
    if (q.length < 2) {
      setHits(undefined);
      setProblem(undefined);
      return;
    }
    const abort = new AbortController();
    const timer = window.setTimeout(() => {
      searchConversations(api, query, abort.signal)
        .then((found) => {
          setHits(found);
          setActive(0);
          setProblem(undefined);
        })
        .catch((error: unknown) => {
          if (abort.signal.aborted) return;
          setProblem(describeProblem(error).detail);
        });
    }, DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      abort.abort();
    };
  }, [api, query]);

  const open = (hit: SearchHit | undefined) => {
    if (!hit) return;
    setQuery('');
    onOpen(hit.id);
  };

  return (
    <search class="search">
      <input
        ref={input}
        type="search"
        class="search-input"
        aria-label="Search conversations"
        aria-controls={hits ? 'search-results' : undefined}
        aria-keyshortcuts={isMac ? 'Meta+K' : 'Control+K'}
        placeholder={`Search  ${isMac ? '⌘' : 'Ctrl+'}K`}
        maxLength={200}
        value={query}
        onInput={(event) => setQuery(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape' && query !== '') {
            event.preventDefault();
            event.stopPropagation();
            setQuery('');
          } else if (event.key === 'ArrowDown' && hits?.length) {
            event.preventDefault();
            setActive((active + 1) % hits.length);
          } else if (event.key === 'ArrowUp' && hits?.length) {
            event.preventDefault();
            setActive((active - 1 + hits.length) % hits.length);
          } else if (event.key === 'Enter') {
            event.preventDefault();
            open(hits?.[active]);
          }
        }}
      />
      {problem && (
        <p class="search-problem" role="alert">
          {problem}
        </p>
      )}
      {hits && (
        <ul id="search-results" class="search-results" aria-label="Search results">
          {hits.length === 0 && <li class="search-empty">No conversation has these words.</li>}
          {hits.map((hit, index) => (
            <li key={hit.id}>
              <a
                class={index === active ? 'search-hit active' : 'search-hit'}
                href={`/c/${encodeURIComponent(hit.id)}`}
                aria-current={index === active ? 'true' : undefined}
                onClick={(event) => {
                  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
                  event.preventDefault();
                  open(hit);
                }}
              >
                <span class="search-hit-title">{hit.title || 'Untitled'}</span>
                <span class="search-hit-snippet">
                  <Highlighted hit={hit} />
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </search>
  );
}
