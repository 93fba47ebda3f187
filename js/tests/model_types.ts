// Type tests, checked by `tsc --noEmit` (tsconfig includes tests/) and never run: the typed model makes a
// misspelt trait, a wrong value type or a misspelt change event a compile error. If one of the lines under a
// `@ts-expect-error` compiled, tsc would fail on the unused directive.
import type { AuditTraits, Model, RankTraits } from "../src/model";

declare const rank: Model<RankTraits>;
declare const audit: Model<AuditTraits>;

export const position: number = rank.get("position");
export const ack: string | null = rank.get("guideline_ack");
export const page: number = audit.get("page");

// @ts-expect-error: "windw" is not a RankWidget trait
rank.get("windw");
// @ts-expect-error: `rows` belongs to the AuditWidget, not the RankWidget
rank.get("rows");
// @ts-expect-error: `position` is an Int trait
rank.set("position", "3");
// @ts-expect-error: no trait `positon`, so no such change event
rank.on("change:positon", () => {});
// @ts-expect-error: `window` belongs to the RankWidget, not the AuditWidget
audit.get("window");
