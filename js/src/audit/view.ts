// The AuditWidget view: filters, the contested-first item list (one page, from Python), the opened item with
// every annotator's label side by side, the adjudication form and re-queue. Python validates every message.
import { type AckMessage, Channel, type RejectMessage } from "../channel";
import type { AuditTraits, Model } from "../model";
import * as rk from "../ranking";
import { RenderCache, renderPrompt } from "../shared/content";
import { h } from "../shared/dom";
import "./audit.css";
import {
  type AuditConfig,
  type AuditDetail,
  cleanFilters,
  pageCount,
  parseAuditConfig,
  parseDetail,
  parseRows,
} from "./model";
import { historyList, labelsTable, listRow, listTable, majorityLine, responsesBox } from "./render";

const SEARCH_DELAY_MS = 250;
const FILTER_LABELS: Record<string, string> = {
  show: "Show",
  annotator: "Annotator",
  flag: "Flag",
  task: "Task",
  criterion: "Criterion",
  guideline_version: "Guidelines",
  model: "Model",
  source: "Source",
};

export class AuditApp {
  readonly root: HTMLElement;
  private config: AuditConfig;
  private cache = new RenderCache(() => false, 32);
  private cleanups: (() => void)[] = [];
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private selected = new Set<string>();
  private detail: AuditDetail | null = null;
  private rank: rk.RankState = { groups: [], pool: [] };
  private strength: number | null = null;
  private rationale = "";
  private channel: Channel<AuditTraits>;

  private filterBox: HTMLElement;
  private searchInput: HTMLInputElement;
  private summary: HTMLElement;
  private tbody: HTMLElement;
  private pager: HTMLElement;
  private requeueBox: HTMLElement;
  private detailBox: HTMLElement;
  private status: HTMLElement;

  constructor(
    private readonly model: Model<AuditTraits>,
    host: HTMLElement,
  ) {
    // Every reject is shown, also one for no pending request (Python could not read the request's id).
    this.channel = new Channel(model, {
      unmatched: (r) => {
        if (r.type === "reject") this.showReject(r);
      },
    });
    this.cleanups.push(() => this.channel.destroy());
    this.config = parseAuditConfig(model.get("config"));
    this.root = h("div", { class: "rw-root rw-audit", "data-lm-suppress-shortcuts": "true" });
    this.filterBox = h("div", { class: "rw-audit-filters", role: "search" });
    this.searchInput = h("input", {
      class: "rw-audit-search",
      type: "search",
      placeholder: "Search prompt, responses, rationales",
      "aria-label": "Search",
      maxlength: 200,
    });
    this.summary = h("div", { class: "rw-audit-summary", "aria-live": "polite" });
    this.tbody = h("tbody");
    this.pager = h("div", { class: "rw-audit-pager" });
    this.requeueBox = h("div", { class: "rw-audit-requeue" });
    this.detailBox = h("section", { class: "rw-audit-detail", "aria-label": "Item" });
    this.status = h("div", { class: "rw-audit-status", role: "status", "aria-live": "polite" });
    this.root.append(
      h("div", { class: "rw-audit-head" }, h("strong", {}, "Audit"), this.summary),
      this.filterBox,
      listTable(this.tbody),
      this.pager,
      this.requeueBox,
      this.status,
      this.detailBox,
    );
    host.append(this.root);
    this.buildFilters();
    this.buildRequeue();
    this.renderList();
    this.renderDetail();
    this.wire();
  }

  destroy(): void {
    if (this.searchTimer) clearTimeout(this.searchTimer);
    for (const c of this.cleanups.splice(0)) c();
    this.root.remove();
  }

  // -- wiring -----------------------------------------------------------------------------------------------

  private on(event: `change:${keyof AuditTraits}`, cb: () => void): void {
    this.model.on(event, cb);
    this.cleanups.push(() => this.model.off(event, cb));
  }

  private wire(): void {
    this.on("change:rows", () => this.renderList());
    this.on("change:total", () => this.renderList());
    this.on("change:page", () => this.renderList());
    this.on("change:filters", () => this.reflectFilters());
    this.on("change:config", () => {
      this.config = parseAuditConfig(this.model.get("config"));
      this.buildFilters();
    });
    this.on("change:detail", () => {
      this.detail = parseDetail(this.model.get("detail"));
      this.resetForm();
      this.renderDetail();
    });
  }

  /** Every message is a request: Python acks or rejects each one; a reject is always shown. */
  private send(msg: { type: string } & Record<string, unknown>, onAck?: (reply: AckMessage) => void): void {
    this.channel.request((clientId) => ({ ...msg, client_id: clientId }), {
      onAck,
      onReject: (r) => this.showReject(r),
    });
  }

  private showReject(r: RejectMessage): void {
    this.setStatus(`Not saved (${r.field ?? "message"}): ${r.message ?? "rejected"}`, "error");
  }

  private setStatus(text: string, kind: "ok" | "error" | "info"): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  // -- filters ------------------------------------------------------------------------------------------------

  private filters(): Record<string, string | null> {
    const f = this.model.get("filters");
    const out: Record<string, string | null> = {};
    if (typeof f === "object" && f !== null) {
      for (const [k, v] of Object.entries(f as Record<string, unknown>)) out[k] = typeof v === "string" ? v : null;
    }
    return out;
  }

  private sendFilters(change: Record<string, string | null>): void {
    this.send({ type: "filter", filters: cleanFilters({ ...this.filters(), ...change }) });
  }

  private buildFilters(): void {
    this.filterBox.replaceChildren();
    const current = this.filters();
    for (const key of Object.keys(FILTER_LABELS)) {
      const values = this.config.options[key] ?? [];
      const select = h("select", { class: "rw-audit-filter", "data-filter": key, "aria-label": FILTER_LABELS[key] });
      if (key !== "show") select.append(h("option", { value: "" }, `${FILTER_LABELS[key]}: any`));
      for (const v of values) {
        select.append(h("option", { value: v }, key === "show" ? `Show: ${v}` : v));
      }
      select.value = current[key] ?? (key === "show" ? "all" : "");
      select.addEventListener("change", () => this.sendFilters({ [key]: select.value || null }));
      if (key !== "show" && values.length === 0) select.disabled = true;
      this.filterBox.append(select);
    }
    this.searchInput.value = current.search ?? "";
    this.searchInput.oninput = () => {
      if (this.searchTimer) clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.sendFilters({ search: this.searchInput.value }), SEARCH_DELAY_MS);
    };
    const clear = h("button", { class: "rw-btn rw-audit-clear", type: "button" }, "Clear filters");
    clear.addEventListener("click", () => this.send({ type: "filter", filters: {} }));
    this.filterBox.append(this.searchInput, clear);
  }

  private reflectFilters(): void {
    const current = this.filters();
    for (const el of Array.from(this.filterBox.querySelectorAll<HTMLSelectElement>("select[data-filter]"))) {
      const key = el.dataset.filter ?? "";
      el.value = current[key] ?? (key === "show" ? "all" : "");
    }
    if (document.activeElement !== this.searchInput) this.searchInput.value = current.search ?? "";
  }

  // -- list -------------------------------------------------------------------------------------------------

  private renderList(): void {
    const rows = parseRows(this.model.get("rows"));
    const total = Number(this.model.get("total")) || 0;
    const page = Number(this.model.get("page")) || 0;
    const size = Number(this.model.get("page_size")) || 20;
    const pages = pageCount(total, size);
    this.summary.textContent = `${total} item${total === 1 ? "" : "s"} · adjudicator ${this.config.adjudicator}`;
    const open = this.detail?.item_id;
    this.tbody.replaceChildren(
      ...rows.map((r) =>
        listRow(r, {
          checked: this.selected.has(r.item_id),
          open: r.item_id === open,
          onCheck: (checked) => {
            if (checked) this.selected.add(r.item_id);
            else this.selected.delete(r.item_id);
            this.renderRequeueCount();
          },
          onOpen: () => this.send({ type: "open", item_id: r.item_id }),
        }),
      ),
    );
    if (!rows.length) {
      this.tbody.append(h("tr", {}, h("td", { colspan: 8, class: "rw-audit-empty" }, "No items match the filters.")));
    }
    const prev = h("button", { class: "rw-btn rw-audit-prev", type: "button" }, "‹ Previous");
    const next = h("button", { class: "rw-btn rw-audit-next", type: "button" }, "Next ›");
    prev.disabled = page <= 0;
    next.disabled = page >= pages - 1;
    prev.addEventListener("click", () => this.send({ type: "page", page: page - 1 }));
    next.addEventListener("click", () => this.send({ type: "page", page: page + 1 }));
    this.pager.replaceChildren(prev, h("span", { class: "rw-audit-pageno" }, `Page ${page + 1} of ${pages}`), next);
    this.renderRequeueCount();
  }

  // -- re-queue ---------------------------------------------------------------------------------------------

  private requeueButton!: HTMLButtonElement;

  private buildRequeue(): void {
    const name = h("input", {
      class: "rw-audit-queue",
      type: "text",
      value: "requeue",
      "aria-label": "Queue name",
      maxlength: 64,
    });
    const reason = h("input", {
      class: "rw-audit-reason",
      type: "text",
      placeholder: "Reason (required)",
      "aria-label": "Re-queue reason",
      maxlength: this.config.maxReasonChars,
    });
    this.requeueButton = h("button", { class: "rw-btn rw-audit-requeue-btn", type: "button" }, "Re-queue");
    this.requeueButton.addEventListener("click", () => {
      const ids = [...this.selected];
      this.send({ type: "requeue", item_ids: ids, reason: reason.value, queue: name.value }, (ack) => {
        this.selected.clear();
        this.renderList();
        this.setStatus(`Re-queued: ${ack.detail ?? ""}`, "ok");
      });
      this.setStatus("Re-queueing…", "info");
    });
    this.requeueBox.replaceChildren(
      h("span", {}, "Send selected back for another round:"),
      name,
      reason,
      this.requeueButton,
    );
  }

  private renderRequeueCount(): void {
    if (!this.requeueButton) return;
    this.requeueButton.textContent = `Re-queue ${this.selected.size} selected`;
    this.requeueButton.disabled = this.selected.size === 0;
  }

  // -- one item ---------------------------------------------------------------------------------------------

  private resetForm(): void {
    const d = this.detail;
    if (!d) return;
    const ids = d.responses.map((r) => r.response_id);
    // Prefill with the majority (Python computed it); an earlier adjudication by this adjudicator wins.
    const mine = d.labels.filter((l) => l.source === "adjudication" && l.annotator === this.config.adjudicator);
    const last = mine[mine.length - 1];
    this.rank = rk.rankFromGroups(last?.ranking ?? d.majority.ranking, ids);
    for (const id of [...this.rank.pool]) this.rank = rk.appendRank(this.rank, id);
    this.strength = last?.strength ?? d.majority.strength ?? 2;
    this.rationale = last?.rationale ?? "";
  }

  private renderDetail(): void {
    const d = this.detail;
    if (!d) {
      this.detailBox.replaceChildren();
      this.detailBox.hidden = true;
      return;
    }
    this.detailBox.hidden = false;
    const close = h("button", { class: "rw-btn rw-audit-close", type: "button", "aria-label": "Close item" }, "×");
    close.addEventListener("click", () => this.send({ type: "close" }));
    const models = new Map(d.responses.map((r) => [r.response_id, r.model]));
    this.detailBox.replaceChildren(
      h("div", { class: "rw-audit-dhead" }, h("strong", {}, `Item `, h("code", {}, d.item_id)), close),
      renderPrompt(d.prompt, this.cache),
      responsesBox(d, this.cache),
      majorityLine(d),
      labelsTable(d.labels, models),
      this.adjudicationForm(d),
      this.commentForm(d),
      historyList(d),
    );
  }

  /** A lead's comment on one label: the annotator sees it when they next open the item (docs/audit.md). */
  private commentForm(d: AuditDetail): HTMLElement {
    const box = h("section", { class: "rw-audit-comment", "aria-label": "Comment on a label" });
    const people = d.labels.filter((l) => l.source !== "adjudication");
    if (people.length === 0) return box;
    const which = h("select", { class: "rw-audit-comment-label", "aria-label": "Label to comment on" });
    for (const l of people) {
      which.append(h("option", { value: l.label_id }, `${l.annotator} (${l.source}, rev. ${l.revision})`));
    }
    const text = h("textarea", {
      class: "rw-audit-comment-text",
      rows: 2,
      placeholder: "Comment for the annotator (shown as plain text when they next open this item)",
      "aria-label": "Comment text",
      maxlength: 2000,
    });
    const send = h("button", { class: "rw-btn rw-audit-comment-send", type: "button" }, "Send comment");
    send.addEventListener("click", () => {
      if (!text.value.trim()) {
        this.setStatus("Write the comment first.", "error");
        return;
      }
      this.send({ type: "comment", label_id: which.value, text: text.value }, () => {
        text.value = "";
        this.setStatus("Comment saved: the annotator sees it when they next open the item.", "ok");
      });
      this.setStatus("Saving comment…", "info");
    });
    box.append(h("strong", {}, "Comment on a label"), h("label", {}, "Label ", which), text, send);
    return box;
  }

  private adjudicationForm(d: AuditDetail): HTMLElement {
    const box = h("section", { class: "rw-audit-adjudicate", "aria-label": "Adjudication" });
    const list = h("ol", { class: "rw-audit-ranklist" });
    const renderRank = (): void => {
      list.replaceChildren(
        ...this.rank.groups.map((g, gi) =>
          h(
            "li",
            { class: "rw-audit-group" },
            ...g.map((rid) => {
              const up = h("button", { class: "rw-btn", type: "button", "aria-label": `Move ${rid} up` }, "↑");
              const down = h("button", { class: "rw-btn", type: "button", "aria-label": `Move ${rid} down` }, "↓");
              const tie = h("button", { class: "rw-btn", type: "button", "aria-label": `Tie ${rid} with above` }, "=");
              const untie = h("button", { class: "rw-btn", type: "button", "aria-label": `Untie ${rid}` }, "≠");
              const act = (next: (r: rk.RankState) => rk.RankState) => () => {
                this.rank = next(this.rank);
                renderRank();
              };
              up.addEventListener(
                "click",
                act((r) => rk.move(r, rid, -1)),
              );
              down.addEventListener(
                "click",
                act((r) => rk.move(r, rid, 1)),
              );
              tie.addEventListener(
                "click",
                act((r) => rk.tieWithAbove(r, rid)),
              );
              untie.addEventListener(
                "click",
                act((r) => rk.untie(r, rid)),
              );
              tie.disabled = gi === 0;
              untie.disabled = g.length < 2;
              return h(
                "span",
                { class: "rw-audit-rankitem", "data-response-id": rid },
                h("code", {}, rid),
                up,
                down,
                tie,
                untie,
              );
            }),
          ),
        ),
      );
      strengthSel.disabled = this.rank.groups.length < 2;
    };
    const strengthSel = h("select", { class: "rw-audit-strength", "aria-label": "Strength" });
    for (const [v, t] of [
      [1, "slightly better"],
      [2, "better"],
      [3, "much better"],
    ] as const) {
      strengthSel.append(h("option", { value: String(v) }, `${v}: ${t}`));
    }
    strengthSel.value = String(this.strength ?? 2);
    strengthSel.addEventListener("change", () => (this.strength = Number(strengthSel.value)));
    const text = h("textarea", {
      class: "rw-audit-rationale",
      rows: 3,
      placeholder: this.config.rationaleRequired ? "Rationale (required)" : "Rationale",
      "aria-label": "Adjudication rationale",
      maxlength: this.config.maxRationaleChars,
    });
    text.value = this.rationale;
    text.addEventListener("input", () => (this.rationale = text.value));
    const save = h("button", { class: "rw-btn rw-primary rw-audit-save", type: "button" }, "Save adjudication");
    save.addEventListener("click", () => {
      const msg: { type: string } & Record<string, unknown> = {
        type: "adjudicate",
        item_id: d.item_id,
        ranking: this.rank.groups,
        rationale: this.rationale,
      };
      if (d.task === "pairwise") msg.strength = this.rank.groups.length < 2 ? null : this.strength;
      this.send(msg, () => this.setStatus("Adjudication saved.", "ok"));
      this.setStatus("Saving adjudication…", "info");
    });
    box.append(
      h("strong", {}, `Final ranking by ${this.config.adjudicator} (best first; prefilled with the majority)`),
      list,
    );
    if (d.task === "pairwise") box.append(h("label", {}, "Strength ", strengthSel));
    box.append(text, save);
    renderRank();
    return box;
  }
}
