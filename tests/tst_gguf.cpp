// GGUF export: llama.cpp's quantizers against ggml's reference bytes, the GGUF container, the
// q/k row order, llama.cpp's preset rules, the MIP mix, and an end-to-end export of stories260K.
#include "TestData.h"

#include "alloc/GgufMix.h"
#include "core/Error.h"
#include "export/Export.h"
#include "export/detail/GgufArch.h"
#include "export/detail/GgufWriter.h"
#include "pipeline/QuantizeJob.h"
#include "quant/GgmlQuants.h"
#include "quant/detail/GgmlWeight.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

using namespace mpq;

namespace {

uint32_t hexU32(const std::string& s) { return uint32_t(std::stoul(s, nullptr, 16)); }

struct Vectors {
    struct Input {
        int64_t rows = 0, cols = 0;
        std::vector<float> x, importance;
    };
    struct Case {
        std::string input, type;
        bool imatrix = false;
        uint64_t dequantHash = 0;
        std::vector<uint8_t> bytes;
    };
    std::map<std::string, Input> inputs;
    std::vector<Case> cases;
};

std::vector<float> readFloats(std::istream& in, int64_t n)
{
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& f : v) {
        std::string w;
        in >> w;
        const uint32_t b = hexU32(w);
        std::memcpy(&f, &b, 4);
    }
    return v;
}

Vectors readVectors()
{
    Vectors v;
    std::ifstream in(MPQ_GGML_VECTORS);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream head(line);
        std::string kind, name;
        head >> kind >> name;
        if (kind == "input") {
            auto& inp = v.inputs[name];
            head >> inp.rows >> inp.cols;
            inp.x = readFloats(in, inp.rows * inp.cols);
        } else if (kind == "importance") {
            int64_t n;
            head >> n;
            v.inputs[name].importance = readFloats(in, n);
        } else if (kind == "case") {
            Vectors::Case c;
            c.input = name;
            int w;
            size_t n;
            std::string hash;
            head >> c.type >> w >> n >> hash;
            c.imatrix = w != 0;
            c.dequantHash = std::stoull(hash, nullptr, 16);
            while (c.bytes.size() < n) {
                std::string hex;
                in >> hex;
                for (size_t i = 0; i + 1 < hex.size(); i += 2)
                    c.bytes.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
            }
            v.cases.push_back(std::move(c));
        }
        in >> std::ws;
    }
    return v;
}

uint64_t fnv(const void* p, size_t n)
{
    const auto* b = static_cast<const uint8_t*>(p);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

/// A minimal independent GGUF reader for the checks below.
struct GgufFile {
    uint32_t version = 0;
    std::map<std::string, std::string> strings;
    std::map<std::string, uint64_t> ints;
    std::map<std::string, float> floats;
    std::map<std::string, uint64_t> arrayLengths;
    struct Info {
        std::vector<uint64_t> ne;
        uint32_t type = 0;
        uint64_t offset = 0;
    };
    std::vector<std::string> order;
    std::map<std::string, Info> tensors;
    uint64_t dataStart = 0;
    std::vector<uint8_t> bytes;

    explicit GgufFile(const std::string& path)
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
        size_t p = 0;
        auto u32 = [&] { uint32_t v; std::memcpy(&v, &bytes.at(p), 4); p += 4; return v; };
        auto u64 = [&] { uint64_t v; std::memcpy(&v, &bytes.at(p), 8); p += 8; return v; };
        auto str = [&] { const uint64_t n = u64(); std::string s(reinterpret_cast<const char*>(&bytes.at(p)), n); p += n; return s; };
        if (std::string(bytes.begin(), bytes.begin() + 4) != "GGUF")
            throw std::runtime_error("bad magic");
        p = 4;
        version = u32();
        const uint64_t nt = u64(), nkv = u64();
        uint32_t alignment = 32;
        std::function<void(uint32_t, const std::string&)> value = [&](uint32_t t, const std::string& k) {
            switch (t) {
            case 0: case 1: case 7: ints[k] = bytes.at(p); p += 1; break;
            case 2: case 3: p += 2; break;
            case 4: case 5: ints[k] = u32(); break;
            case 6: { const uint32_t b = u32(); float f; std::memcpy(&f, &b, 4); floats[k] = f; break; }
            case 8: strings[k] = str(); break;
            case 10: case 11: ints[k] = u64(); break;
            case 12: p += 8; break;
            case 9: {
                const uint32_t et = u32();
                const uint64_t n = u64();
                arrayLengths[k] = n;
                for (uint64_t i = 0; i < n; ++i)
                    value(et, k + "[]");
                break;
            }
            default: throw std::runtime_error("bad value type");
            }
        };
        for (uint64_t i = 0; i < nkv; ++i) {
            const std::string k = str();
            value(u32(), k);
        }
        if (ints.count("general.alignment"))
            alignment = uint32_t(ints["general.alignment"]);
        for (uint64_t i = 0; i < nt; ++i) {
            const std::string name = str();
            Info info;
            const uint32_t nd = u32();
            for (uint32_t d = 0; d < nd; ++d)
                info.ne.push_back(u64());
            info.type = u32();
            info.offset = u64();
            tensors[name] = info;
            order.push_back(name);
        }
        dataStart = (p + alignment - 1) / alignment * alignment;
    }
    const uint8_t* data(const std::string& name) const { return bytes.data() + dataStart + tensors.at(name).offset; }
};

} // namespace

class TestGguf : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void quantizersMatchGgmlReference()
    {
        const Vectors v = readVectors();
        QCOMPARE(int(v.inputs.size()), 4);
        QCOMPARE(int(v.cases.size()), 80);
        int checked = 0;
        for (const auto& c : v.cases) {
            const auto& in = v.inputs.at(c.input);
            const auto type = mpq::ggml::typeFromName(c.type);
            QVERIFY(type.has_value());
            const std::vector<uint8_t> got = mpq::ggml::quantize(*type, in.x.data(), in.rows, in.cols,
                                                            c.imatrix ? in.importance.data() : nullptr);
            const QString what = QString("%1 %2 imatrix=%3").arg(c.input.c_str(), c.type.c_str()).arg(c.imatrix);
            QVERIFY2(got.size() == c.bytes.size(), qPrintable(what));
            size_t firstDiff = got.size();
            for (size_t i = 0; i < got.size() && firstDiff == got.size(); ++i)
                if (got[i] != c.bytes[i])
                    firstDiff = i;
            QVERIFY2(firstDiff == got.size(), qPrintable(what + QString(": first differing byte %1").arg(firstDiff)));
            std::vector<float> deq(size_t(in.rows * in.cols));
            mpq::ggml::dequantize(*type, got.data(), in.rows, in.cols, deq.data());
            QVERIFY2(fnv(deq.data(), deq.size() * 4) == c.dequantHash, qPrintable(what + ": dequantized values"));
            ++checked;
        }
        QCOMPARE(checked, 80);
    }

    void quantizedWeightMatchesGgmlValues()
    {
        const Vectors v = readVectors();
        const auto& in = v.inputs.at("edge"); // zero, constant and one-signed blocks
        for (const auto& info : mpq::ggml::allTypes()) {
            if (info.type == mpq::ggml::Type::F16 || info.type == mpq::ggml::Type::F32)
                continue;
            const at::Tensor W = at::from_blob(const_cast<float*>(in.x.data()), {in.rows, in.cols}, at::kFloat).clone();
            const mpq::detail::GgmlQuantized q = mpq::detail::ggmlQuantize(W, info.type, {});
            const mpq::detail::QuantizedWeight w = mpq::detail::toQuantizedWeight(q);
            const at::Tensor again = w.dequantize();
            const double err = (again - q.dequant).abs().max().item<double>();
            const double scale = q.dequant.abs().max().item<double>();
            QVERIFY2(err <= 1e-6 * scale, qPrintable(QString("%1: %2").arg(info.name).arg(err)));
            QVERIFY(w.codes.max().item<int>() < (1 << info.codeBits));
            QCOMPARE(w.groupSize, int64_t(info.subBlock));
        }
    }

    void halfPrecisionRoundTrips()
    {
        for (uint32_t h = 0; h < 65536; ++h) {
            const float f = mpq::ggml::fp16ToFp32(uint16_t(h));
            if (std::isnan(f))
                continue;
            QCOMPARE(uint32_t(mpq::ggml::fp32ToFp16(f)), h);
        }
        QCOMPARE(mpq::ggml::fp16ToFp32(mpq::ggml::fp32ToFp16(1.0f + 1.0f / 2048)), 1.0f);         // tie to even
        QCOMPARE(mpq::ggml::fp16ToFp32(mpq::ggml::fp32ToFp16(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);
        QCOMPARE(uint32_t(mpq::ggml::fp32ToFp16(70000.f)), 0x7c00u);
        QCOMPARE(uint32_t(mpq::ggml::fp32ToFp16(std::ldexp(1.0f, -25))), 0u);
        QCOMPARE(uint32_t(mpq::ggml::fp32ToFp16(std::ldexp(1.5f, -25))), 1u);
    }

    void typeTable()
    {
        QCOMPARE(mpq::ggml::bitsPerWeight(mpq::ggml::Type::Q4_K), 4.5);
        QCOMPARE(mpq::ggml::bitsPerWeight(mpq::ggml::Type::Q6_K), 6.5625);
        QCOMPARE(mpq::ggml::bitsPerWeight(mpq::ggml::Type::Q8_0), 8.5);
        QCOMPARE(mpq::ggml::bitsPerWeight(mpq::ggml::Type::Q2_K), 2.625);
        QCOMPARE(mpq::ggml::bitsPerWeight(mpq::ggml::Type::Q3_K), 3.4375);
        QVERIFY(!mpq::ggml::fitsRow(mpq::ggml::Type::Q4_K, 1408));
        QVERIFY(mpq::ggml::fitsRow(mpq::ggml::Type::Q5_0, 1408));
        QVERIFY(mpq::ggml::typeFromName("q4_k") == mpq::ggml::Type::Q4_K);
        QVERIFY(!mpq::ggml::typeFromName("Q4_K_M"));
        QVERIFY_THROWS_EXCEPTION(mpq::Error, mpq::ggml::quantize(mpq::ggml::Type::Q4_K, nullptr, 1, 100, nullptr));
    }

    void writerRoundTrip()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.gguf").toStdString();
        mpq::detail::GgufWriter w;
        w.setString("general.architecture", "llama");
        w.setAlignment(64);
        w.setU32("llama.block_count", 5);
        w.setF32("llama.rope.freq_base", 10000.f);
        w.setStringArray("tokenizer.ggml.tokens", {"a", "bc", ""});
        w.setBool("tokenizer.ggml.add_bos_token", true);
        QVERIFY_THROWS_EXCEPTION(mpq::Error, w.setU32("llama.block_count", 6));
        std::vector<float> a(3 * 32);
        for (size_t i = 0; i < a.size(); ++i)
            a[i] = float(i) * 0.01f - 0.3f;
        w.addTensor("x.weight", {32, 3}, mpq::ggml::Type::Q8_0,
                    [&] { return mpq::ggml::quantize(mpq::ggml::Type::Q8_0, a.data(), 3, 32, nullptr); });
        w.addTensor("n.weight", {5}, mpq::ggml::Type::F32, [&] {
            std::vector<uint8_t> b(20);
            std::memcpy(b.data(), a.data(), 20);
            return b;
        });
        QVERIFY_THROWS_EXCEPTION(mpq::Error, w.addTensor("bad", {100, 2}, mpq::ggml::Type::Q4_K, {}));
        w.write(path);
        const GgufFile f(path);
        QCOMPARE(f.version, 3u);
        QCOMPARE(f.strings.at("general.architecture"), std::string("llama"));
        QCOMPARE(f.ints.at("llama.block_count"), uint64_t(5));
        QCOMPARE(f.floats.at("llama.rope.freq_base"), 10000.f);
        QCOMPARE(f.arrayLengths.at("tokenizer.ggml.tokens"), uint64_t(3));
        QCOMPARE(f.ints.at("tokenizer.ggml.add_bos_token"), uint64_t(1));
        QCOMPARE(f.dataStart % 64, uint64_t(0));
        QCOMPARE(f.tensors.at("x.weight").type, 8u);
        QCOMPARE(f.tensors.at("x.weight").offset, uint64_t(0));
        QCOMPARE(f.tensors.at("n.weight").offset, uint64_t(128)); // 102 bytes, aligned to 64
        QCOMPARE(f.tensors.at("n.weight").ne, std::vector<uint64_t>{5});
        const auto q = mpq::ggml::quantize(mpq::ggml::Type::Q8_0, a.data(), 3, 32, nullptr);
        QVERIFY(std::memcmp(f.data("x.weight"), q.data(), q.size()) == 0);
        QVERIFY(std::memcmp(f.data("n.weight"), a.data(), 20) == 0);
    }

    void ropeRowOrderAndNames()
    {
        // One head of 4 rows: Hugging Face rotates (0, 2) and (1, 3); llama.cpp adjacent pairs.
        const std::vector<uint8_t> rows = {0, 1, 2, 3, 10, 11, 12, 13};
        QCOMPARE(mpq::detail::permuteRopeRows(rows, 8, 1, 2), (std::vector<uint8_t>{0, 2, 1, 3, 10, 12, 11, 13}));
        QCOMPARE(mpq::detail::permuteRopeRows({0, 0, 1, 1, 2, 2, 3, 3}, 4, 2, 1),
                 (std::vector<uint8_t>{0, 0, 2, 2, 1, 1, 3, 3}));
        QCOMPARE(mpq::detail::ggufTensorName("model.layers.3.self_attn.o_proj.weight"), std::string("blk.3.attn_output.weight"));
        QCOMPARE(mpq::detail::ggufTensorName("model.layers.12.mlp.down_proj.weight"), std::string("blk.12.ffn_down.weight"));
        QCOMPARE(mpq::detail::ggufTensorName("model.embed_tokens.weight"), std::string("token_embd.weight"));
        QCOMPARE(mpq::detail::ggufTensorName("model.layers.0.post_attention_layernorm.weight"), std::string("blk.0.ffn_norm.weight"));
        QVERIFY_THROWS_EXCEPTION(mpq::Error, mpq::detail::ggufTensorName("model.layers.0.foo.weight"));
        QVERIFY(mpq::detail::ggufFamily("mistral").permuteQK);
        QVERIFY(!mpq::detail::ggufFamily("qwen2").permuteQK);
        QVERIFY_THROWS_EXCEPTION(mpq::Error, mpq::detail::ggufFamily("gpt2"));
    }

    void presetRules()
    {
        // A 32-layer LLaMA-7B-shaped table (no costs needed for presets).
        GgufCostTable t;
        t.types = GgufCostParams::defaultTypes();
        t.nHeads = 32;
        t.nKvHeads = 32;
        const char* linears[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
        for (int64_t l = 0; l < 32; ++l)
            for (const char* lin : linears) {
                GgufCostTable::Matrix m;
                m.tensor = "model.layers." + std::to_string(l) + "." + lin;
                m.layer = l;
                m.linear = lin;
                const bool mlp = std::string(lin).find("_proj") != std::string::npos && lin[0] != 'q' && lin[0] != 'k' &&
                                 lin[0] != 'v' && lin[0] != 'o';
                m.rows = mlp && std::string(lin) != "down_proj" ? 11008 : 4096;
                m.cols = std::string(lin) == "down_proj" ? 11008 : 4096;
                m.cost.assign(t.types.size(), -1);
                t.matrices.push_back(m);
            }
        auto typeOf = [](const AllocationPlan& p, int64_t layer, const char* lin) {
            const MatrixPlan* m = p.find("model.layers." + std::to_string(layer) + "." + lin);
            return m ? std::string(mpq::ggml::typeName(ggmlSpecOf(*m).type)) : std::string("F16");
        };
        const AllocationPlan km = ggufPresetPlan(t, "Q4_K_M");
        QCOMPARE(km.method, std::string("gguf-Q4_K_M"));
        // use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2
        for (int64_t l = 0; l < 32; ++l) {
            const bool more = l < 4 || l >= 28 || (l - 4) % 3 == 2;
            QCOMPARE(typeOf(km, l, "v_proj"), std::string(more ? "Q6_K" : "Q4_K"));
            QCOMPARE(typeOf(km, l, "down_proj"), std::string(more ? "Q6_K" : "Q4_K"));
            QCOMPARE(typeOf(km, l, "q_proj"), std::string("Q4_K"));
        }
        const AllocationPlan q2 = ggufPresetPlan(t, "q2_k");
        QCOMPARE(typeOf(q2, 5, "v_proj"), std::string("Q3_K"));
        QCOMPARE(typeOf(q2, 5, "o_proj"), std::string("Q3_K"));
        QCOMPARE(typeOf(q2, 5, "gate_proj"), std::string("Q2_K"));
        const AllocationPlan q3m = ggufPresetPlan(t, "Q3_K_M");
        QCOMPARE(typeOf(q3m, 1, "v_proj"), std::string("Q5_K"));
        QCOMPARE(typeOf(q3m, 2, "v_proj"), std::string("Q4_K"));
        QCOMPARE(typeOf(q3m, 1, "down_proj"), std::string("Q5_K"));
        QCOMPARE(typeOf(q3m, 2, "down_proj"), std::string("Q4_K"));
        // Fallbacks where the row does not divide into 256 (mpq-llama-42m's down_proj: 1408).
        for (auto& m : t.matrices)
            if (m.linear == "down_proj")
                m.cols = 1408;
        const AllocationPlan fb = ggufPresetPlan(t, "Q4_K_M");
        QCOMPARE(typeOf(fb, 0, "down_proj"), std::string("Q8_0")); // Q6_K → Q8_0
        QCOMPARE(typeOf(fb, 5, "down_proj"), std::string("Q5_0")); // Q4_K → Q5_0
        QCOMPARE(typeOf(ggufPresetPlan(t, "Q5_K_S"), 5, "down_proj"), std::string("Q5_1"));
        QCOMPARE(typeOf(ggufPresetPlan(t, "Q3_K_S"), 5, "down_proj"), std::string("Q4_0"));
        for (auto& m : t.matrices)
            if (m.linear == "down_proj")
                m.cols = 172;
        QCOMPARE(typeOf(ggufPresetPlan(t, "Q4_K_M"), 5, "down_proj"), std::string("F16"));
        QVERIFY_THROWS_EXCEPTION(mpq::Error, ggufPresetPlan(t, "Q7_K"));
    }

    void mixIsOptimal()
    {
        // Four matrices, four types: the solve must equal brute force over 4^4 assignments.
        GgufCostTable t;
        t.types = {mpq::ggml::Type::Q2_K, mpq::ggml::Type::Q4_K, mpq::ggml::Type::Q6_K, mpq::ggml::Type::Q8_0};
        const double costs[4][4] = {{9, 4, 2, 1.5}, {20, 6, 2.5, 2}, {5, 3, 1, 0.9}, {12, 2, 0.5, 0.4}};
        for (int i = 0; i < 4; ++i) {
            GgufCostTable::Matrix m;
            m.tensor = "m" + std::to_string(i);
            m.linear = "q_proj";
            m.rows = 16 * (i + 1);
            m.cols = 256;
            m.cost.assign(costs[i], costs[i] + 4);
            t.matrices.push_back(m);
        }
        for (double budget : {3.0, 4.0, 5.0, 6.0, 7.5}) {
            MxqSolveOptions o;
            o.relativeGap = 0;
            MxqSolution s;
            const AllocationPlan p = ggufMixPlan(t, MxqBudget::bitsPerParameter(budget), o, nullptr, &s);
            double best = 1e300, params = 0;
            for (const auto& m : t.matrices)
                params += double(m.rows * m.cols);
            for (int a = 0; a < 256; ++a) {
                double c = 0, bits = 0;
                for (int i = 0, code = a; i < 4; ++i, code /= 4) {
                    c += costs[i][code % 4];
                    bits += ggufStorageBits(t.matrices[size_t(i)].rows, 256, t.types[size_t(code % 4)]);
                }
                if (bits <= budget * params + 1e-9)
                    best = std::min(best, c);
            }
            double got = 0;
            for (const auto& m : p.matrices)
                got += m.predictedCost;
            QCOMPARE(got, best);
            QVERIFY(s.bitsPerParameter <= budget + 1e-12);
        }
        QVERIFY_THROWS_EXCEPTION(mpq::Error, ggufMixPlan(t, MxqBudget::bitsPerParameter(2.0), {}, nullptr, nullptr));
    }

    void stories260kEndToEnd()
    {
        MPQ_DATA_PATH(model, "models/stories260K/stories260K.bin");
        QTemporaryDir dir;
        // stories260K: rows of 64 (Q8_0 / Q4_0 fit) and 172 (down_proj: F16 only).
        GgufCostParams cp;
        cp.model = model;
        JobContext ctx;
        const GgufCostTable t = computeGgufCosts(cp, ctx);
        QCOMPARE(int(t.matrices.size()), 35);
        for (const auto& m : t.matrices) {
            const bool down = m.linear == "down_proj";
            for (size_t k = 0; k < t.types.size(); ++k) {
                const bool fits = mpq::ggml::fitsRow(t.types[k], m.cols);
                QCOMPARE(m.cost[k] >= 0, fits);
                if (down)
                    QCOMPARE(fits, t.types[k] == mpq::ggml::Type::F16);
            }
        }
        MxqSolution s;
        const AllocationPlan mix = ggufMixPlan(t, MxqBudget::bitsPerParameter(8.0), {}, nullptr, &s);
        QVERIFY(s.hasSolution());
        QCOMPARE(int(mix.matrices.size()), 30); // the five down_proj stay F16

        QuantizeParams p;
        p.model = model;
        p.method = "hqq";
        p.plan = mix;
        p.out = dir.filePath("run").toStdString();
        const QuantizeReport r = quantizeModel(p, ctx);
        QCOMPARE(int(r.matrices.size()), 30);

        ExportParams e;
        e.input = p.out;
        e.format = ExportFormat::Gguf;
        e.outDir = dir.filePath("s.gguf").toStdString();
        e.dtype = "fp32";
        const ExportReport er = exportRun(e, ctx);
        QCOMPARE(er.quantizedMatrices, int64_t(30));
        const GgufFile f(e.outDir);
        QCOMPARE(f.strings.at("general.architecture"), std::string("llama"));
        QCOMPARE(f.ints.at("llama.block_count"), uint64_t(5));
        QCOMPARE(f.ints.at("llama.attention.head_count_kv"), uint64_t(4));
        QCOMPARE(f.ints.at("llama.rope.dimension_count"), uint64_t(8));
        QCOMPARE(f.arrayLengths.at("tokenizer.ggml.tokens"), uint64_t(512));
        QCOMPARE(f.strings.at("tokenizer.ggml.model"), std::string("llama"));
        QCOMPARE(f.tensors.size(), size_t(1 + 5 * 9 + 1)); // tied output: no output.weight
        QVERIFY(!f.tensors.count("output.weight"));
        QCOMPARE(f.tensors.at("blk.2.ffn_down.weight").type, 0u); // F32 (--dtype fp32)
        QCOMPARE(f.tensors.at("blk.2.ffn_down.weight").ne, (std::vector<uint64_t>{172, 64}));
        // attn_k: the run's type, rows permuted into llama.cpp's rotary order (4 kv heads of 8).
        const MatrixPlan* k = mix.find("model.layers.1.self_attn.k_proj.weight");
        QVERIFY(k);
        const mpq::ggml::Type kt = ggmlSpecOf(*k).type;
        QCOMPARE(f.tensors.at("blk.1.attn_k.weight").type, uint32_t(kt));
        std::ifstream probe(model);
        QVERIFY(probe.good());
    }
};

QTEST_GUILESS_MAIN(TestGguf)
#include "tst_gguf.moc"
