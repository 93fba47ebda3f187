// The benchmark document: ~50 KB of markdown with 20 fenced code blocks in the registered languages, prose,
// lists, a table and some math. Deterministic, so runs compare.
const LANGS = ["python", "javascript", "typescript", "bash", "json", "sql", "cpp", "java", "rust", "go"];

const CODE = {
  python:
    "def fib(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b  # step\n    return a\n",
  javascript:
    "export function debounce(fn, ms) {\n  let t;\n  return (...args) => {\n    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };\n}\n",
  typescript:
    "interface Point { x: number; y: number }\nconst dist = (a: Point, b: Point): number =>\n  Math.hypot(a.x - b.x, a.y - b.y);\n",
  bash: "for f in *.jsonl; do\n  wc -l \"$f\" | awk '{print $1}' >> counts.txt\ndone\n",
  json: '{\n  "name": "rank_widget",\n  "version": "0.1.0",\n  "tags": ["labels", "preferences"]\n}\n',
  sql: "SELECT customer_id, SUM(amount) AS total\nFROM orders\nGROUP BY customer_id\nORDER BY total DESC\nLIMIT 3;\n",
  cpp: "#include <vector>\nint sum(const std::vector<int>& v) {\n  int s = 0;\n  for (int x : v) s += x;\n  return s;\n}\n",
  java: 'public class Hello {\n  public static void main(String[] args) {\n    System.out.println("hi");\n  }\n}\n',
  rust: 'fn main() {\n    let v: Vec<i32> = (1..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}\n',
  go: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello")\n}\n',
};

const PROSE =
  "Recursion solves a problem by reducing it to **smaller instances** of itself. A correct recursive " +
  "function needs a *base case* and progress toward it; otherwise it never stops. See [the docs](https://docs.python.org/3/) " +
  "for details, and note that prices like $5 and $10 stay text while $e^{i\\pi} + 1 = 0$ is math. ";

const FILLER =
  "A recursive call stores its frame on the call stack, so very deep recursion can overflow it; an explicit " +
  "stack or an iterative loop avoids that. Memoisation trades memory for time when subproblems repeat. ";

export function makeDoc(targetBytes = 50_000, blocks = 20) {
  const parts = ["# A long answer\n"];
  for (let i = 0; i < blocks; i++) {
    const lang = LANGS[i % LANGS.length];
    parts.push(`## Step ${i + 1}\n`, PROSE.repeat(3), "\n\n- first point\n- second point with `inline code`\n\n");
    parts.push(`\`\`\`${lang}\n${CODE[lang].repeat(3)}\`\`\`\n\n`);
    if (i % 5 === 0)
      parts.push("| n | fib(n) |\n|---|---|\n| 1 | 1 |\n| 10 | 55 |\n\n$$\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$$\n\n");
  }
  let doc = parts.join("");
  while (doc.length < targetBytes) doc += `${FILLER}\n\n`;
  return doc.slice(0, targetBytes);
}

export function codeBlockCount(doc) {
  return (doc.match(/^```[a-z]+$/gm) ?? []).length;
}
