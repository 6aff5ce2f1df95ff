import { useEffect, useRef } from 'preact/hooks';
import type { SiblingPosition } from '../branches';
import { Icon } from './Icon';
import './branches.css';

interface BranchSwitcherProps {
  readonly position: SiblingPosition;
  /** What the versions are of, for the accessible names: "question" or "answer". */
  readonly of: 'question' | 'answer';
  readonly disabled: boolean;
  readonly onSwitch: (messageId: string, direction: 'previous' | 'next') => void;
  /** Focus the button pressed last (the switched-to message is a new element, the old one's focus is gone). */
  readonly focus?: 'previous' | 'next' | undefined;
}

/** `‹ 2/3 ›`: steps through the versions of a question (its edits) or of an answer (its regenerations). */
export function BranchSwitcher({ position, of, disabled, onSwitch, focus }: BranchSwitcherProps) {
  const previous = useRef<HTMLButtonElement>(null);
  const next = useRef<HTMLButtonElement>(null);
  const { index, ids } = position;
  const hasPrevious = index > 0;
  const hasNext = index < ids.length - 1;

  useEffect(() => {
    if (focus === undefined) return;
    // At the end of the row the pressed button is disabled: the other one keeps the focus in the switcher.
    const wanted = focus === 'previous' ? (hasPrevious ? previous : next) : hasNext ? next : previous;
    wanted.current?.focus();
  }, [focus, hasPrevious, hasNext]);

  const step = (direction: 'previous' | 'next') => {
    const target = ids[index + (direction === 'previous' ? -1 : 1)];
    return (
      <button
        ref={direction === 'previous' ? previous : next}
        type="button"
        class="icon-button small"
        aria-label={`${direction === 'previous' ? 'Previous' : 'Next'} version of this ${of}`}
        title={`${direction === 'previous' ? 'Previous' : 'Next'} version`}
        disabled={disabled || target === undefined}
        onClick={() => {
          if (target !== undefined) onSwitch(target, direction);
        }}
      >
        <span aria-hidden="true">{direction === 'previous' ? '‹' : '›'}</span>
      </button>
    );
  };
  return (
    <fieldset class="branch-switcher">
      <legend class="sr-only">Versions of this {of}</legend>
      {step('previous')}
      <span class="branch-count">
        <span aria-hidden="true">
          {index + 1}/{ids.length}
        </span>
        <span class="sr-only">
          Version {index + 1} of {ids.length}
        </span>
      </span>
      {step('next')}
    </fieldset>
  );
}

interface BranchToolsProps {
  readonly role: 'user' | 'assistant';
  /** Its place among its siblings; undefined when it has none. */
  readonly position: SiblingPosition | undefined;
  readonly disabled: boolean;
  readonly onSwitch: (messageId: string, direction: 'previous' | 'next') => void;
  /** Offered on a stored question: opens it for editing. */
  readonly onEdit?: (() => void) | undefined;
  /** Where the focus goes when this message appears: a switcher button, or Edit (an edit was cancelled). */
  readonly focus?: BranchFocus | undefined;
}

export type BranchFocus = 'previous' | 'next' | 'edit';

/** What a message offers for branches: Edit on a question, the version switcher where there are siblings. */
export function BranchTools(props: BranchToolsProps) {
  const of = props.role === 'user' ? 'question' : 'answer';
  const edit = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (props.focus === 'edit') edit.current?.focus();
  }, [props.focus]);
  if (!props.position && !props.onEdit) return null;
  return (
    <div class={`branch-tools ${of}`}>
      {props.onEdit && (
        <button
          ref={edit}
          type="button"
          class="icon-button small"
          aria-label="Edit question"
          title="Edit"
          disabled={props.disabled}
          onClick={props.onEdit}
        >
          <Icon name="pencil" size={16} />
        </button>
      )}
      {props.position && (
        <BranchSwitcher
          position={props.position}
          of={of}
          disabled={props.disabled}
          onSwitch={props.onSwitch}
          focus={props.focus === 'edit' ? undefined : props.focus}
        />
      )}
    </div>
  );
}
