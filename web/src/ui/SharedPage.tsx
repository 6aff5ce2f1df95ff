import { useEffect, useState } from 'preact/hooks';
import { describeProblem } from '../errors';
import { fetchShared, type SharedConversation } from '../sharing-api';
import { Icon } from './Icon';
import { MessageView } from './Message';

/** Search engines must not index a shared conversation (the API and the web server also send X-Robots-Tag). */
function useNoIndex() {
  useEffect(() => {
    const meta = Object.assign(document.createElement('meta'), {
      name: 'robots',
      content: 'noindex, nofollow',
    });
    document.head.append(meta);
    return () => meta.remove();
  }, []);
}

/**
 * `/s/<id>`: a read-only shared conversation, for anyone with the link, signed in or not. Its text is untrusted:
 * answers go through the same sanitised Markdown as in the chat, questions are plain text.
 */
export function SharedPage(props: { readonly apiBaseUrl: string; readonly shareId: string }) {
  useNoIndex();
  const [shared, setShared] = useState<SharedConversation | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  useEffect(() => {
    fetchShared(props.apiBaseUrl, props.shareId)
      .then((conversation) => {
        setShared(conversation);
        document.title = `${conversation.title} · chatstack`;
      })
      .catch((error: unknown) => {
        const described = describeProblem(error);
        setProblem(
          described.kind === 'not_found'
            ? 'This shared conversation does not exist, or its owner stopped sharing it.'
            : described.detail,
        );
      });
  }, [props.apiBaseUrl, props.shareId]);

  return (
    <div class="shared-page">
      <header class="shared-head">
        <a class="shared-brand" href="/">
          <Icon name="spark" size={18} /> chatstack
        </a>
        <a class="button primary small" href="/">
          Start your own chat
        </a>
      </header>
      <main class="chat shared" id="main" aria-labelledby="shared-title">
        <div class="messages">
          <section class="messages-inner" aria-label="Shared messages" aria-busy={!shared && !problem}>
            {!shared && !problem && (
              <p class="loading" role="status">
                Loading the shared conversation…
              </p>
            )}
            {problem && (
              <div class="shared-missing" role="alert">
                <h1 id="shared-title">Not available</h1>
                <p>{problem}</p>
              </div>
            )}
            {shared && (
              <>
                <h1 id="shared-title" class="shared-title">
                  {shared.title}
                </h1>
                <p class="shared-meta">
                  A read-only copy shared on {new Date(shared.shared_at).toLocaleDateString()}. It shows the
                  conversation as it was then.
                </p>
                {shared.messages.map((message, index) => (
                  <MessageView
                    // The snapshot's order is its identity: messages carry no ids here.
                    key={String(index)}
                    message={{
                      key: String(index),
                      role: message.role,
                      content: message.content,
                      status: 'complete',
                    }}
                    canRegenerate={false}
                    onRegenerate={() => undefined}
                  />
                ))}
              </>
            )}
          </section>
        </div>
      </main>
    </div>
  );
}
