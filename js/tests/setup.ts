// Test pages get a doctype like real notebook pages (KaTeX warns in quirks mode otherwise).
if (!document.doctype) {
  document.insertBefore(document.implementation.createDocumentType("html", "", ""), document.documentElement);
}
