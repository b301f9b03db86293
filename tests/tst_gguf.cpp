// GGUF export: llama.cpp's quantizers against ggml's reference bytes, the GGUF container, the
// q/k row order, llama.cpp's preset rules, the MIP mix, and an end-to-end export of stories260K.
#include "TestData.h"

#include "alloc/GgufMix.h"
#include "core/Error.h"
#include "export/Export.h"
#include "export/detail/GgufArch.h"
#include "export/detail/GgufWriter.h"
#include "model/ModelConfig.h"
#include "model/ModelSource.h"
#include "model/detail/WeightLoader.h"
#include "pipeline/QuantizeJob.h"
#include "quant/GgmlQuants.h"
#include "quant/detail/GgmlWeight.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
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

/// A family fixture (tests/data/families/<name>), or a copy in `dir` with config.json's keys
/// replaced by `changes` (null values remove a key).
std::string familyFixture(const QString& name, QTemporaryDir* dir = nullptr, const QJsonObject& changes = {})
{
    const QString src = QStringLiteral(MPQ_FAMILY_FIXTURES) + "/" + name;
    if (!dir)
        return src.toStdString();
    const QString dst = dir->filePath(name);
    QDir().mkpath(dst);
    for (const QString& f : QDir(src).entryList(QDir::Files))
        QFile::copy(src + "/" + f, dst + "/" + f);
    QFile in(src + "/config.json");
    in.open(QIODevice::ReadOnly);
    QJsonObject cfg = QJsonDocument::fromJson(in.readAll()).object();
    for (auto it = changes.begin(); it != changes.end(); ++it) {
        if (it.value().isNull())
            cfg.remove(it.key());
        else
            cfg[it.key()] = it.value();
    }
    QFile::remove(dst + "/config.json");
    QFile out(dst + "/config.json");
    out.open(QIODevice::WriteOnly);
    out.write(QJsonDocument(cfg).toJson());
    return dst.toStdString();
}

mpq::ModelConfig fixtureConfig(const std::string& folder)
{
    std::ifstream in(folder + "/config.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return mpq::ModelConfig::fromHuggingFaceJson(ss.str(), folder + "/config.json");
}

/// Quantizes `model` with llama.cpp's preset (or a gguf-mxq budget when `budget` > 0) and
/// exports it as `dir`/name.gguf in F32.
std::string exportFixture(const std::string& model, QTemporaryDir& dir, const QString& name, const std::string& preset,
                          double budget = 0, AllocationPlan* planOut = nullptr)
{
    JobContext ctx;
    GgufCostParams cp;
    cp.model = model;
    cp.measure = budget > 0;
    const GgufCostTable t = computeGgufCosts(cp, ctx);
    const AllocationPlan plan =
        budget > 0 ? ggufMixPlan(t, MxqBudget::bitsPerParameter(budget), {}, nullptr, nullptr) : ggufPresetPlan(t, preset);
    if (planOut)
        *planOut = plan;
    QuantizeParams p;
    p.model = model;
    p.method = "hqq";
    p.plan = plan;
    p.out = dir.filePath(name + "-run").toStdString();
    quantizeModel(p, ctx);
    ExportParams e;
    e.input = p.out;
    e.format = ExportFormat::Gguf;
    e.outDir = dir.filePath(name + ".gguf").toStdString();
    e.dtype = "fp32";
    exportRun(e, ctx);
    return e.outDir;
}

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

    void familyTensorNames()
    {
        using mpq::detail::ggufTensorName;
        QCOMPARE(ggufTensorName("model.layers.1.block_sparse_moe.experts.3.w2.weight"), std::string("blk.1.ffn_down_exps.weight"));
        QCOMPARE(ggufTensorName("model.layers.1.block_sparse_moe.experts.0.w1.weight"), std::string("blk.1.ffn_gate_exps.weight"));
        QCOMPARE(ggufTensorName("model.layers.1.block_sparse_moe.experts.0.w3.weight"), std::string("blk.1.ffn_up_exps.weight"));
        QCOMPARE(ggufTensorName("model.layers.0.mlp.experts.2.up_proj.weight"), std::string("blk.0.ffn_up_exps.weight"));
        QCOMPARE(ggufTensorName("model.layers.0.block_sparse_moe.gate.weight"), std::string("blk.0.ffn_gate_inp.weight"));
        QCOMPARE(ggufTensorName("model.layers.0.mlp.gate.weight"), std::string("blk.0.ffn_gate_inp.weight"));
        QCOMPARE(ggufTensorName("model.layers.0.mlp.shared_expert.down_proj.weight"), std::string("blk.0.ffn_down_shexp.weight"));
        QCOMPARE(ggufTensorName("model.layers.0.mlp.shared_expert_gate.weight"), std::string("blk.0.ffn_gate_inp_shexp.weight"));
        QCOMPARE(ggufTensorName("model.layers.0.self_attn.o_proj.bias"), std::string("blk.0.attn_output.bias"));
        QCOMPARE(ggufTensorName("model.layers.0.mlp.down_proj.bias"), std::string("blk.0.ffn_down.bias"));
        QCOMPARE(std::string(mpq::detail::ggufFamily("mixtral").arch), std::string("llama"));
        QCOMPARE(std::string(mpq::detail::ggufFamily("qwen2_moe").arch), std::string("qwen2moe"));
        QCOMPARE(std::string(mpq::detail::ggufFamily("qwen3_moe").arch), std::string("qwen3moe"));
    }

    void familyRefusalsAndWarnings()
    {
        using mpq::detail::checkGgufSupport;
        using mpq::detail::ggufFamily;
        // qwen3 fixture: an o_proj bias (attention_bias) that llama.cpp's qwen3 has no tensor for.
        const ModelConfig q3 = fixtureConfig(familyFixture("qwen3"));
        try {
            checkGgufSupport(ggufFamily("qwen3"), q3);
            QFAIL("the qwen3 fixture's o_proj bias was accepted");
        } catch (const mpq::Error& e) {
            QVERIFY2(std::string(e.what()).find("o_proj bias") != std::string::npos, e.what());
        }
        QTemporaryDir dir;
        const ModelConfig q3plain = fixtureConfig(familyFixture("qwen3", &dir, {{"attention_bias", false}}));
        QVERIFY(checkGgufSupport(ggufFamily("qwen3"), q3plain).empty());
        // qwen2_moe fixture: layer 1 is dense (mlp_only_layers), llama.cpp's qwen2moe has none.
        const ModelConfig q2m = fixtureConfig(familyFixture("qwen2_moe"));
        QVERIFY_THROWS_EXCEPTION(mpq::Error, checkGgufSupport(ggufFamily("qwen2_moe"), q2m));
        // qwen3_moe with norm_topk_prob false: llama.cpp's qwen3moe always renormalises.
        QTemporaryDir dir2;
        const ModelConfig q3m = fixtureConfig(familyFixture("qwen3_moe", &dir2, {{"norm_topk_prob", false}}));
        QVERIFY_THROWS_EXCEPTION(mpq::Error, checkGgufSupport(ggufFamily("qwen3_moe"), q3m));
        // A sliding window loads but is not applied by llama.cpp: a warning naming the window.
        const auto w = checkGgufSupport(ggufFamily("mistral"), fixtureConfig(familyFixture("mistral")));
        QCOMPARE(int(w.size()), 1);
        QVERIFY(w[0].find("sliding window of 8") != std::string::npos);
        QVERIFY(checkGgufSupport(ggufFamily("llama"), fixtureConfig(familyFixture("llama3"))).empty());
    }

    void ropeScalingMetadata()
    {
        QTemporaryDir dir;
        // llama2-linear: linear scaling as keys.
        const GgufFile lin(exportFixture(familyFixture("llama2-linear"), dir, "lin", "Q8_0"));
        QCOMPARE(lin.strings.at("llama.rope.scaling.type"), std::string("linear"));
        QCOMPARE(lin.floats.at("llama.rope.scaling.factor"), 2.0f);
        QVERIFY(!lin.tensors.count("rope_freqs.weight"));
        // llama3: a rope_freqs tensor (head_dim 8: 4 pairs), no scaling keys; biases named and permuted.
        const std::string l3path = familyFixture("llama3");
        const GgufFile l3(exportFixture(l3path, dir, "l3", "Q8_0"));
        QVERIFY(!l3.strings.count("llama.rope.scaling.type"));
        QCOMPARE(l3.tensors.at("rope_freqs.weight").ne, (std::vector<uint64_t>{4}));
        QCOMPARE(l3.tensors.at("rope_freqs.weight").type, 0u);
        const std::vector<float> expected = mpq::detail::llama3RopeFactors(fixtureConfig(l3path));
        QCOMPARE(int(expected.size()), 4);
        // θ = 10⁴, d = 8, original context 16, factor 4, low/high 1/4: wavelengths 2π·10^i
        // (6.3, 62.8, 628, 6283) against 16/4 = 4 and 16/1 = 16: pair 0 in the smooth band,
        // 1 / ((1 − s)/4 + s) with s = (16/2π − 1)/3, the others low frequencies → 4.
        for (int i = 0; i < 4; ++i) {
            float v;
            std::memcpy(&v, l3.data("rope_freqs.weight") + 4 * i, 4);
            QCOMPARE(v, expected[size_t(i)]);
            const double sm = (16 / (2 * M_PI) - 1) / 3;
            QVERIFY(std::abs(v - (i == 0 ? 1 / ((1 - sm) / 4 + sm) : 4.0)) < 1e-5);
        }
        QVERIFY(l3.tensors.count("blk.0.attn_output.bias"));
        QVERIFY(l3.tensors.count("blk.1.ffn_down.bias"));
        QCOMPARE(l3.tensors.at("blk.0.attn_q.bias").type, 0u);
        // qwen2: yarn as keys.
        const GgufFile q2(exportFixture(familyFixture("qwen2"), dir, "q2", "Q8_0"));
        QCOMPARE(q2.strings.at("qwen2.rope.scaling.type"), std::string("yarn"));
        QCOMPARE(q2.floats.at("qwen2.rope.scaling.factor"), 4.0f);
        QCOMPARE(q2.ints.at("qwen2.rope.scaling.original_context_length"), uint64_t(16));
    }

    void sentencePieceStyleVocabulary()
    {
        // mistral fixture: a byte-fallback BPE tokenizer.json with "▁" (no tokenizer.model) is
        // llama.cpp's "llama" vocabulary with scores, byte tokens typed as bytes, no merges.
        QTemporaryDir dir;
        const GgufFile f(exportFixture(familyFixture("mistral"), dir, "m", "Q8_0"));
        QCOMPARE(f.strings.at("tokenizer.ggml.model"), std::string("llama"));
        QCOMPARE(f.arrayLengths.at("tokenizer.ggml.tokens"), uint64_t(352));
        QCOMPARE(f.arrayLengths.at("tokenizer.ggml.scores"), uint64_t(352));
        QVERIFY(!f.arrayLengths.count("tokenizer.ggml.merges"));
        QCOMPARE(f.ints.at("tokenizer.ggml.add_space_prefix"), uint64_t(1));
        QCOMPARE(f.ints.at("tokenizer.ggml.bos_token_id"), uint64_t(1));
        QCOMPARE(f.ints.at("tokenizer.ggml.unknown_token_id"), uint64_t(0));
        // qwen2: byte-level BPE stays "gpt2" with its merges.
        const GgufFile q(exportFixture(familyFixture("qwen2"), dir, "q", "Q8_0"));
        QCOMPARE(q.strings.at("tokenizer.ggml.model"), std::string("gpt2"));
        QVERIFY(q.arrayLengths.at("tokenizer.ggml.merges") > 0);
        QVERIFY(!q.arrayLengths.count("tokenizer.ggml.scores"));
    }

    void llama3RopeFactorsSmoothBand()
    {
        // All three bands: θ = 10⁴, d = 8 → wavelengths 2π·10^i (6.28, 62.8, 628, 6283);
        // original 64, low 1, high 4 → high wavelength 16, low 64: pair 0 keeps 1, pairs 2 and 3
        // get the factor, pair 1 the smooth 1 / ((1 − s)/f + s), s = (64/λ − 1)/3.
        ModelConfig c;
        c.headDim = 8;
        c.ropeTheta = 10000;
        c.maxPositions = 256;
        c.rope.type = RopeType::Llama3;
        c.rope.factor = 8;
        c.rope.lowFreqFactor = 1;
        c.rope.highFreqFactor = 4;
        c.rope.originalMaxPositions = 64;
        const std::vector<float> f = mpq::detail::llama3RopeFactors(c);
        QCOMPARE(int(f.size()), 4);
        QCOMPARE(f[0], 1.0f);
        QCOMPARE(f[2], 8.0f);
        QCOMPARE(f[3], 8.0f);
        const double sm = (64 / (2 * M_PI * 10) - 1) / 3;
        QVERIFY(std::abs(f[1] - 1 / ((1 - sm) / 8 + sm)) < 1e-5);
    }

    void mixtralStackedExperts()
    {
        // Mixtral fixture: 2 layers, 4 experts (top 2) of width 24, hidden 32. A MIP mix: the
        // experts of a layer and role get one type (w1/w3 have 32 columns: the 32-blocks fit;
        // w2 has 24: F16 only).
        QTemporaryDir dir;
        const std::string model = familyFixture("mixtral");
        AllocationPlan plan;
        const GgufFile f(exportFixture(model, dir, "mix", "", 9.0, &plan));
        for (int layer = 0; layer < 2; ++layer)
            for (const char* w : {"w1", "w3"}) {
                std::set<std::string> types;
                for (int e = 0; e < 4; ++e) {
                    const MatrixPlan* m = plan.find("model.layers." + std::to_string(layer) + ".block_sparse_moe.experts." +
                                                    std::to_string(e) + "." + w + ".weight");
                    types.insert(m ? mpq::ggml::typeName(ggmlSpecOf(*m).type) : "F16");
                }
                QCOMPARE(int(types.size()), 1);
            }
        QCOMPARE(f.strings.at("general.architecture"), std::string("llama"));
        QCOMPARE(f.ints.at("llama.expert_count"), uint64_t(4));
        QCOMPARE(f.ints.at("llama.expert_used_count"), uint64_t(2));
        QCOMPARE(f.ints.at("llama.feed_forward_length"), uint64_t(24));
        // token_embd, output_norm, output + per layer: attn_norm, q, k, v, o, ffn_norm, gate_inp, 3 stacks.
        QCOMPARE(f.tensors.size(), size_t(3 + 2 * 10));
        QVERIFY(!f.tensors.count("blk.0.ffn_gate.weight"));
        QCOMPARE(f.tensors.at("blk.0.ffn_gate_inp.weight").ne, (std::vector<uint64_t>{32, 4}));
        QCOMPARE(f.tensors.at("blk.0.ffn_gate_inp.weight").type, 0u); // routers in F32
        QCOMPARE(f.tensors.at("blk.1.ffn_down_exps.weight").ne, (std::vector<uint64_t>{24, 32, 4}));
        QCOMPARE(f.tensors.at("blk.1.ffn_down_exps.weight").type, 0u);
        const auto& gate = f.tensors.at("blk.1.ffn_gate_exps.weight");
        QCOMPARE(gate.ne, (std::vector<uint64_t>{32, 24, 4}));
        // Expert e's rows are at e · 24 rows: each slice equals ggml's quantization of that expert.
        const MatrixPlan* g0 = plan.find("model.layers.1.block_sparse_moe.experts.0.w1.weight");
        const mpq::ggml::Type gt = g0 ? ggmlSpecOf(*g0).type : mpq::ggml::Type::F32;
        QCOMPARE(gate.type, uint32_t(gt));
        const ModelSource src = ModelSource::open(model);
        const int64_t rowBytes = mpq::ggml::rowBytes(gt, 32);
        for (int e = 0; e < 4; ++e) {
            const std::string name = "model.layers.1.block_sparse_moe.experts." + std::to_string(e) + ".w1.weight";
            const at::Tensor W = mpq::detail::loadTensor(src, name, at::kFloat, at::kCPU).contiguous();
            const std::vector<uint8_t> q =
                mpq::ggml::quantize(gt, W.data_ptr<float>(), 24, 32, nullptr);
            QCOMPARE(int64_t(q.size()), 24 * rowBytes);
            QVERIFY(std::memcmp(f.data("blk.1.ffn_gate_exps.weight") + e * 24 * rowBytes, q.data(), q.size()) == 0);
        }
    }

    void qwenMoeLayouts()
    {
        QTemporaryDir dir;
        // qwen2_moe: a copy with only layer 0 (a mixture of experts; layer 1 of the fixture is
        // dense, which llama.cpp's qwen2moe cannot hold).
        const std::string q2m = familyFixture("qwen2_moe", &dir,
                                              {{"num_hidden_layers", 1}, {"mlp_only_layers", QJsonArray()}, {"layer_types", QJsonValue(QJsonValue::Null)}});
        const GgufFile a(exportFixture(q2m, dir, "q2m", "Q8_0"));
        QCOMPARE(a.strings.at("general.architecture"), std::string("qwen2moe"));
        QCOMPARE(a.ints.at("qwen2moe.expert_count"), uint64_t(4));
        QCOMPARE(a.ints.at("qwen2moe.expert_used_count"), uint64_t(2));
        QCOMPARE(a.ints.at("qwen2moe.expert_feed_forward_length"), uint64_t(16));
        QCOMPARE(a.ints.at("qwen2moe.expert_shared_feed_forward_length"), uint64_t(24));
        QCOMPARE(a.tensors.at("blk.0.ffn_gate_exps.weight").ne, (std::vector<uint64_t>{32, 16, 4}));
        QCOMPARE(a.tensors.at("blk.0.ffn_gate_exps.weight").type, uint32_t(mpq::ggml::Type::Q8_0));
        QCOMPARE(a.tensors.at("blk.0.ffn_down_exps.weight").ne, (std::vector<uint64_t>{16, 32, 4}));
        QCOMPARE(a.tensors.at("blk.0.ffn_up_shexp.weight").ne, (std::vector<uint64_t>{32, 24}));
        QCOMPARE(a.tensors.at("blk.0.ffn_down_shexp.weight").ne, (std::vector<uint64_t>{24, 32}));
        QCOMPARE(a.tensors.at("blk.0.ffn_gate_inp_shexp.weight").ne, (std::vector<uint64_t>{32, 1}));
        QCOMPARE(a.tensors.at("blk.0.ffn_gate_inp_shexp.weight").type, 0u);
        QVERIFY(a.tensors.count("blk.0.attn_q.bias"));
        // qwen3_moe: q/k norms, no shared expert.
        const GgufFile b(exportFixture(familyFixture("qwen3_moe"), dir, "q3m", "Q8_0"));
        QCOMPARE(b.strings.at("general.architecture"), std::string("qwen3moe"));
        QCOMPARE(b.ints.at("qwen3moe.expert_feed_forward_length"), uint64_t(16));
        QVERIFY(!b.ints.count("qwen3moe.expert_shared_feed_forward_length"));
        QCOMPARE(b.tensors.at("blk.1.attn_k_norm.weight").ne, (std::vector<uint64_t>{8}));
        QCOMPARE(b.tensors.at("blk.1.ffn_up_exps.weight").ne, (std::vector<uint64_t>{32, 16, 4}));
        QVERIFY(!b.tensors.count("blk.1.ffn_gate_inp_shexp.weight"));
        // The qwen3 fixture (o_proj bias) is refused by the export itself, naming the bias.
        try {
            exportFixture(familyFixture("qwen3"), dir, "q3", "Q8_0");
            QFAIL("the qwen3 fixture was exported");
        } catch (const mpq::Error& e) {
            QVERIFY2(std::string(e.what()).find("o_proj bias") != std::string::npos, e.what());
        }
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

    // The same path on the embedded demo model (every clone, no MPQ_DATA_DIR): safetensors F16,
    // untied output, 8 KV heads, 192-wide MLP (every row size fits every type), a SentencePiece-
    // style BPE tokenizer.json (byte fallback) that becomes llama.cpp's "llama" vocabulary.
    void demoEndToEnd()
    {
        MPQ_DEMO_MODEL(demo);
        QTemporaryDir dir;
        GgufCostParams cp;
        cp.model = demo.dir;
        JobContext ctx;
        const GgufCostTable t = computeGgufCosts(cp, ctx);
        QCOMPARE(int(t.matrices.size()), 35);
        for (const auto& m : t.matrices) {
            QVERIFY(m.cols == 64 || m.cols == 192);
            for (size_t k = 0; k < t.types.size(); ++k)
                QCOMPARE(m.cost[k] >= 0, mpq::ggml::fitsRow(t.types[k], m.cols));
        }
        MxqSolution s;
        const AllocationPlan mix = ggufMixPlan(t, MxqBudget::bitsPerParameter(8.0), {}, nullptr, &s);
        QVERIFY(s.hasSolution());
        QVERIFY(s.bitsPerParameter <= 8.0);
        QVERIFY(!mix.matrices.empty());

        QuantizeParams p;
        p.model = demo.dir;
        p.method = "hqq";
        p.plan = mix;
        p.out = dir.filePath("run").toStdString();
        const QuantizeReport r = quantizeModel(p, ctx);
        QCOMPARE(r.matrices.size(), mix.matrices.size());

        ExportParams e;
        e.input = p.out;
        e.format = ExportFormat::Gguf;
        e.outDir = dir.filePath("demo.gguf").toStdString();
        e.dtype = "fp32";
        const ExportReport er = exportRun(e, ctx);
        QCOMPARE(er.quantizedMatrices, int64_t(mix.matrices.size()));
        const GgufFile f(e.outDir);
        QCOMPARE(f.strings.at("general.architecture"), std::string("llama"));
        QCOMPARE(f.ints.at("llama.block_count"), uint64_t(5));
        QCOMPARE(f.ints.at("llama.attention.head_count_kv"), uint64_t(8));
        QCOMPARE(f.ints.at("llama.rope.dimension_count"), uint64_t(8));
        QCOMPARE(f.strings.at("tokenizer.ggml.model"), std::string("llama"));
        QCOMPARE(f.arrayLengths.at("tokenizer.ggml.tokens"), uint64_t(512));
        QCOMPARE(f.arrayLengths.at("tokenizer.ggml.scores"), uint64_t(512));
        QCOMPARE(f.tensors.size(), size_t(1 + 5 * 9 + 1 + 1)); // untied: output.weight too
        QCOMPARE(f.tensors.at("output.weight").ne, (std::vector<uint64_t>{64, 512}));
        QCOMPARE(f.tensors.at("blk.2.ffn_down.weight").ne, (std::vector<uint64_t>{192, 64}));
        // Every planned matrix has the plan's type; the rest are F32 (--dtype fp32).
        int planned = 0;
        for (int64_t layer = 0; layer < 5; ++layer)
            for (const auto& [hf, gg] : {std::pair<const char*, const char*>{"self_attn.q_proj", "attn_q"},
                                         {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
                                         {"self_attn.o_proj", "attn_output"}, {"mlp.gate_proj", "ffn_gate"},
                                         {"mlp.up_proj", "ffn_up"}, {"mlp.down_proj", "ffn_down"}}) {
                const std::string name = "model.layers." + std::to_string(layer) + "." + hf + ".weight";
                const std::string gname = "blk." + std::to_string(layer) + "." + gg + ".weight";
                const MatrixPlan* m = mix.find(name);
                planned += m != nullptr;
                QCOMPARE(f.tensors.at(gname).type, m ? uint32_t(ggmlSpecOf(*m).type) : 0u);
            }
        QCOMPARE(planned, int(mix.matrices.size()));
        qInfo("demo GGUF at 8 bits per parameter: %d of 35 matrices quantized (%s)", planned, s.message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestGguf)
#include "tst_gguf.moc"
