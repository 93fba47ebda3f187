// Per-item controls: pairwise choice buttons, rating segments, flag toggles + note, rationale box. Each
// builder writes into the draft and calls `changed()`; `reflectDraft` shows the draft's state on them.
import type { Draft } from "../label";
import { CHOICE_LABELS, CHOICES, type Choice } from "../pairwise";
import { MAX_FLAG_NOTE_CHARS, RULE_TEXT } from "../rules";
import { h } from "../shared/dom";
import type { Config } from "../types";

export function buildChoices(onChoice: (c: Choice) => void): HTMLElement {
  const row = h("div", { class: "rw-choices", role: "radiogroup", "aria-label": "Which response is better?" });
  CHOICES.forEach((c, i) => {
    const btn = h(
      "button",
      { type: "button", class: `rw-choice rw-choice-${c}`, "data-choice": c, role: "radio", "aria-checked": "false" },
      h("kbd", {}, String(i + 1)),
      h("span", {}, CHOICE_LABELS[c]),
    );
    btn.addEventListener("click", () => onChoice(c));
    row.append(btn);
  });
  return row;
}

/** Segmented 1..scale buttons per criterion for one response; a second click on the value clears it. */
export function buildRatings(config: Config, draft: Draft, rid: string, changed: () => void): HTMLElement {
  const box = h("div", { class: "rw-ratings" });
  for (const crit of config.criteria) {
    const seg = h("div", { class: "rw-seg", role: "radiogroup", "aria-label": crit });
    for (let v = 1; v <= config.scale; v++) {
      const b = h(
        "button",
        {
          type: "button",
          class: "rw-rate",
          "data-response-id": rid,
          "data-criterion": crit,
          "data-value": v,
          role: "radio",
          "aria-checked": "false",
        },
        String(v),
      );
      b.addEventListener("click", (e) => {
        e.stopPropagation(); // not a click-to-rank on the card
        const per = draft.ratings[rid] ?? {};
        draft.ratings[rid] = per;
        if (per[crit] === v) delete per[crit];
        else per[crit] = v;
        changed();
      });
      seg.append(b);
    }
    box.append(h("div", { class: "rw-rating-row" }, h("span", { class: "rw-crit" }, crit), seg));
  }
  return box;
}

export function buildFlags(
  config: Config,
  draft: Draft,
  changed: () => void,
): { box: HTMLElement; note: HTMLInputElement } {
  const box = h(
    "div",
    { class: "rw-flags", role: "group", "aria-label": "Flags" },
    h("span", { class: "rw-label" }, "Flags"),
  );
  for (const f of config.flags) {
    const b = h("button", { type: "button", class: "rw-flag", "data-flag": f.id, "aria-pressed": "false" }, f.label);
    b.addEventListener("click", () => {
      draft.flags = draft.flags.includes(f.id) ? draft.flags.filter((x) => x !== f.id) : [...draft.flags, f.id];
      changed();
    });
    box.append(b);
  }
  const note = h("input", {
    type: "text",
    class: "rw-flag-note",
    placeholder: "Note about the flags (optional)",
    maxlength: MAX_FLAG_NOTE_CHARS,
    "aria-label": "Flag note",
  });
  note.value = draft.flagNote;
  note.addEventListener("input", () => {
    draft.flagNote = note.value;
    changed();
  });
  box.append(note);
  return { box, note };
}

let ids = 0;

export function buildRationale(
  config: Config,
  draft: Draft,
  changed: () => void,
): {
  box: HTMLElement;
  textarea: HTMLTextAreaElement;
  counter: HTMLElement;
} {
  const id = `rw-rationale-${++ids}`;
  const textarea = h("textarea", {
    class: "rw-rationale",
    id,
    rows: 2,
    placeholder: "Why? (r to type, Esc to leave the box)",
  });
  textarea.value = draft.rationale;
  textarea.addEventListener("input", () => {
    draft.rationale = textarea.value;
    changed();
  });
  const counter = h("span", { class: "rw-counter" });
  const box = h(
    "div",
    { class: "rw-rationale-box" },
    h(
      "label",
      { class: "rw-label", for: id },
      "Rationale ",
      h("span", { class: "rw-rule" }, `(${RULE_TEXT[config.rationale]})`),
    ),
    textarea,
    counter,
  );
  return { box, textarea, counter };
}

/** Pressed/checked states of the choice, rating and flag buttons from the draft. */
export function reflectDraft(itemEl: HTMLElement, draft: Draft): void {
  itemEl.querySelectorAll<HTMLElement>(".rw-choice").forEach((b) => {
    const on = b.dataset.choice === draft.choice;
    b.classList.toggle("rw-on", on);
    b.setAttribute("aria-checked", String(on));
  });
  itemEl.querySelectorAll<HTMLElement>(".rw-rate").forEach((b) => {
    const on = draft.ratings[b.dataset.responseId ?? ""]?.[b.dataset.criterion ?? ""] === Number(b.dataset.value);
    b.classList.toggle("rw-on", on);
    b.setAttribute("aria-checked", String(on));
  });
  itemEl.querySelectorAll<HTMLElement>(".rw-flag").forEach((b) => {
    const on = draft.flags.includes(b.dataset.flag ?? "");
    b.classList.toggle("rw-on", on);
    b.setAttribute("aria-pressed", String(on));
  });
}
