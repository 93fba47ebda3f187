// Test pages get a doctype like real notebook pages (KaTeX warns in quirks mode otherwise). Pure-logic tests
// run in the node environment, without a document.
if (typeof document !== "undefined" && !document.doctype) {
  document.insertBefore(document.implementation.createDocumentType("html", "", ""), document.documentElement);
}
