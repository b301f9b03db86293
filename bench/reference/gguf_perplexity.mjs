// Perplexity of a GGUF file as llama.cpp itself computes the logits, through node-llama-cpp
// (which ships llama.cpp builds for Linux x64). The protocol is `mpq eval`'s "gptq" one
// (docs/eval-protocols.md): BOS + the tokenization of the whole text, non-overlapping windows of
// --seqlen tokens, every window scoring its seqlen − 1 predicted tokens, ppl = exp(mean NLL).
//
// Setup (outside the repository; the version is pinned):
//   mkdir -p /tmp/nlc && cd /tmp/nlc && npm init -y && npm install node-llama-cpp@3.22.1
// Run:
//   NODE_PATH=/tmp/nlc/node_modules node bench/reference/gguf_perplexity.mjs \
//       --model FILE.gguf --text DATA/wikitext2/wiki.test.joined.txt --seqlen 2048 --max-windows 8
// Prints one JSON object: perplexity, mean_nll, scored tokens, windows, total tokens.
//
// --ids FILE (the JSON of `mpq tokenize MODEL TEXT --json --ids`): also say whether llama.cpp's
// tokenization of the text equals ours ("tokens_match"); with --use-ids, evaluate our ids
// instead of llama.cpp's own (to compare the forward pass alone where the two tokenizers differ).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH ?? process.cwd(), "x.js"));
const nlcPath = require.resolve("node-llama-cpp");
const { getLlama, LlamaLogLevel } = await import(nlcPath);

function arg(name, fallback) {
    const i = process.argv.indexOf("--" + name);
    if (i < 0) {
        if (fallback === undefined) {
            console.error(`gguf_perplexity: --${name} is required`);
            process.exit(2);
        }
        return fallback;
    }
    return process.argv[i + 1];
}

const modelPath = arg("model");
const textPath = arg("text");
const seqlenAsked = Number(arg("seqlen", "2048"));
const maxWindows = Number(arg("max-windows", "0"));
const threads = Number(arg("threads", "2"));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const seqlen = Math.min(seqlenAsked, model.trainContextSize);
const text = fs.readFileSync(textPath, "utf8");
// BOS first where the model has one (LLaMA); Qwen's tokenizers have none and `mpq eval` then
// prepends nothing either (the tokenizer's encodeForModel).
const bos = model.tokens.bos;
const ownTokens = bos == null ? model.tokenize(text, false) : [bos, ...model.tokenize(text, false)];
const idsPath = arg("ids", "");
const ours = idsPath ? JSON.parse(fs.readFileSync(idsPath, "utf8")).ids : null;
const tokensMatch = ours ? ours.length === ownTokens.length && ours.every((t, i) => t === ownTokens[i]) : null;
const tokens = ours && process.argv.includes("--use-ids") ? ours : ownTokens;
let windows = Math.floor(tokens.length / seqlen);
if (maxWindows > 0)
    windows = Math.min(windows, maxWindows);

const context = await model.createContext({ contextSize: seqlen, batchSize: seqlen, threads, sequences: 1 });
const sequence = context.getSequence();
let nll = 0;
let scored = 0;
for (let w = 0; w < windows; ++w) {
    const win = tokens.slice(w * seqlen, (w + 1) * seqlen);
    await sequence.clearHistory();
    // The target's logit and the largest one (includeTop: node-llama-cpp 3.22.1 ignores
    // includeMax here), with Σ exp(logit − max): log p = (target − max) − log Σ.
    const input = win.map((t, i) => (i + 1 < win.length
        ? [t, { generateNext: { logits: { filter: { tokens: [win[i + 1]], includeTop: 1 } }, totalLogitWeight: true } }]
        : t));
    const out = await sequence.controlledEvaluate(input);
    for (let i = 0; i + 1 < win.length; ++i) {
        const next = out[i].next;
        let maxLogit = -Infinity;
        for (const v of next.logits.values())
            maxLogit = Math.max(maxLogit, v);
        const target = next.logits.get(win[i + 1]);
        nll -= (target - maxLogit) - Math.log(next.totalLogitWeight);
        ++scored;
    }
}
const meanNll = nll / scored;
console.log(JSON.stringify({
    model: modelPath, seqlen, windows, scored_tokens: scored, total_tokens: tokens.length,
    mean_nll: meanNll, perplexity: Math.exp(meanNll), bos: bos != null, node_llama_cpp: "3.22.1",
    llama_cpp_tokens: ownTokens.length, tokens_match: tokensMatch, used_our_ids: tokens === ours,
}));
await context.dispose();
await model.dispose();
await llama.dispose();
