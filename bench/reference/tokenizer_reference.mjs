// Reference token ids from an independent implementation, transformers.js (npm
// @lenml/tokenizers), for the tokenizer conformance test (tests/tst_hftokenizer.cpp).
//
//   npm install @lenml/tokenizers          (in a scratch folder outside the repository)
//   NODE_PATH=/scratch/node_modules node bench/reference/tokenizer_reference.mjs \
//       TOKENIZER_DIR DATA_DIR tests/data/tokenizer/hf_edge_cases.json OUT.json
//
// TOKENIZER_DIR holds tokenizer.json and (optionally) tokenizer_config.json. DATA_DIR is the
// shared data folder (wikitext2/, c4/, tinystories/). OUT.json: for each big text `count`,
// `first` (24 ids) and `sha256` of the ids as little-endian int32, without (`plain`) and with
// (`model`) the post-processor's special tokens (C4 documents: count and sha256 only); for each edge case the full ids and the
// decoded text. bench/reference/tokenizer_reference.py writes the same file from Hugging Face
// `tokenizers`.
import { createRequire } from "module";
import crypto from "crypto";
import fs from "fs";
import path from "path";

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), "x.js"));
const { TokenizerLoader } = require("@lenml/tokenizers");
const version = JSON.parse(fs.readFileSync(
  path.join(path.dirname(require.resolve("@lenml/tokenizers")), "..", "package.json"), "utf8")).version;

const [tokDir, dataDir, casesFile, outFile] = process.argv.slice(2);
if (!outFile) {
  console.error("usage: tokenizer_reference.mjs TOKENIZER_DIR DATA_DIR CASES.json OUT.json");
  process.exit(2);
}
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const configPath = path.join(tokDir, "tokenizer_config.json");
const config = fs.existsSync(configPath) ? readJson(configPath) : {};
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: readJson(path.join(tokDir, "tokenizer.json")),
  tokenizerConfig: config,
});

const sha256 = (ids) => {
  const buf = Buffer.alloc(ids.length * 4);
  ids.forEach((id, i) => buf.writeInt32LE(id, i * 4));
  return crypto.createHash("sha256").update(buf).digest("hex");
};
const summary = (ids, withFirst) =>
  withFirst ? { count: ids.length, first: ids.slice(0, 24), sha256: sha256(ids) } : { count: ids.length, sha256: sha256(ids) };
const plain = (text) => tokenizer.encode(text, { add_special_tokens: false });
const model = (text) => tokenizer.encode(text);

const texts = [];
const addText = (name, text, withFirst = true) => {
  texts.push({ name, plain: summary(plain(text), withFirst), model: summary(model(text), withFirst) });
};
const file = (rel) => fs.readFileSync(path.join(dataDir, rel), "utf8");
for (const rel of ["wikitext2/wiki.test.joined.txt", "wikitext2/wiki.test.raw",
                   "tinystories/tinystories-sample5.txt", "tinystories/tinystories-valid-head45.txt"])
  addText(rel, file(rel));
const c4 = "c4/c4-validation.00000-of-00008.head1025.jsonl";
file(c4).split("\n").filter((l) => l.length > 0).forEach((line, i) => addText(`${c4}#${i}`, JSON.parse(line).text, false));

const casesJson = readJson(casesFile);
const cases = casesJson.cases.map((text) => {
  const ids = plain(text);
  return { text, plain: ids, model: model(text), decoded: ids.length ? tokenizer.decode(ids, { clean_up_tokenization_spaces: false }) : "" };
});

fs.writeFileSync(outFile, JSON.stringify({
  implementation: `transformers.js (@lenml/tokenizers ${version}), node ${process.version}`,
  tokenizer: path.basename(path.resolve(tokDir)),
  tokenizer_json_sha256: crypto.createHash("sha256").update(fs.readFileSync(path.join(tokDir, "tokenizer.json"))).digest("hex"),
  texts,
  cases,
}) + "\n");
console.log(`${outFile}: ${texts.length} texts, ${cases.length} cases`);
