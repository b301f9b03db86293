// mpq session ls FILE: what a session holds — runs (method, status, settings, figures),
// evaluations, sweeps, MXQ cost tables and the warning log.
// mpq session verify FILE: reads all of it back and checks every checksum.
#include "Args.h"
#include "Commands.h"
#include "MemoryOptions.h"
#include "Terminal.h"

#include "core/JobContext.h"
#include "core/detail/JsonInt.h"
#include "session/Session.h"
#include "session/SessionVerify.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

namespace mpq::cli {

namespace {

const char* kSessionUsage =
    "usage: mpq session ls FILE [--json]\n"
    "       mpq session verify FILE [--json]\n"
    "\n"
    "ls      lists what an HDF5 session file holds: its runs (method, status, layers, settings,\n"
    "        average bits, perplexities), evaluations, sweeps, MXQ cost tables and warnings.\n"
    "verify  reads everything the session stores (every run's matrices and decoder layers,\n"
    "        dequantized; evaluations, sweeps, cost tables, the log) and checks every checksum;\n"
    "        lists each damaged object by name. Exit status 0 when all is intact, 1 otherwise.\n"
    "        'mpq session verify FILE --help' for its options.\n";

const char* kSessionShortUsage = "usage: mpq session ls|verify FILE [--json]  ('mpq session --help' explains them)\n";

/// "bits 4, group 128, act-order, calib c4 128x2048" from a run's settings JSON.
std::string settingsSummary(const std::string& method, const std::string& json)
{
    const auto j = nlohmann::json::parse(json, nullptr, false);
    if (!j.is_object())
        return "";
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    // A summary: a field of the wrong type or range shows as absent rather than failing `ls`.
    auto intOr = [&](const char* key, int64_t fallback) {
        try {
            return detail::jsonIntOr<int64_t>(j, key, fallback, "settings");
        } catch (const Error&) {
            return fallback;
        }
    };
    const std::string alloc = j.value("allocator", "");
    if (j.contains("override") && j["override"].is_object()) { // docs/override.md
        const auto& o = j["override"];
        add("override of " + o.value("base", std::string("?")) + " from layer " +
            std::to_string(o.value("from_layer", int64_t(0))) + " (" +
            std::to_string(o.value("matrices_changed", int64_t(0))) + " matrices changed)");
    } else if (!alloc.empty() && j.contains("mgptq")) {
        const auto& m = j["mgptq"];
        if (m.contains("target_bits"))
            add("target " + nlohmann::json(m["target_bits"]).dump() + " bits");
        if (m.contains("alpha"))
            add("alpha " + nlohmann::json(m["alpha"]).dump());
    } else if (method == "mxq") {
        add("per-matrix bits and groups from the MXQ solve");
    } else if (j.contains("bits")) {
        add("bits " + std::to_string(intOr("bits", 0)));
    }
    if (intOr("group_size", -1) > 0 && method != "mxq")
        add("group " + std::to_string(intOr("group_size", -1)));
    if (j.value("act_order", false))
        add("act-order");
    add("device " + j.value("device", std::string("cpu")));
    return s;
}

nlohmann::json runJson(const session::RunInfo& r, const std::vector<session::Evaluation>& evals)
{
    nlohmann::json j = {{"name", r.name},
                        {"method", r.method},
                        {"status", session::statusName(r.status)},
                        {"created", r.created},
                        {"updated", r.updated},
                        {"layers_done", r.layersDone.size()},
                        {"layers_total", r.layersTotal},
                        {"avg_bits", r.avgBits},
                        {"avg_bits_with_overhead", r.avgBitsWithOverhead},
                        {"model", r.model.path},
                        {"calibration", {{"windows", r.calibrationWindows}, {"length", r.calibrationLength},
                                         {"description", r.calibrationDescription}}},
                        {"settings", nlohmann::json::parse(r.settingsJson, nullptr, false)},
                        {"report", nlohmann::json::parse(r.reportJson, nullptr, false)},
                        {"warnings", r.warnings}};
    j["damaged_layers"] = nlohmann::json::array();
    for (const auto& [layer, why] : r.damagedLayers)
        j["damaged_layers"].push_back({{"layer", layer}, {"error", why}});
    j["perplexity"] = nlohmann::json::array();
    for (const auto& e : evals)
        if (e.run == r.name)
            j["perplexity"].push_back({{"dataset", e.dataset}, {"protocol", e.protocol}, {"seqlen", e.seqlen},
                                       {"perplexity", e.perplexity}});
    return j;
}

int runLs(const std::vector<std::string>& argv)
{
    Args args("session ls", "Lists what an HDF5 session file holds: runs (method, status, layers, settings,\n"
                            "average bits, perplexities), evaluations, sweeps, MXQ cost tables and warnings.");
    args.positional("FILE", "session file (.h5)");
    args.flag("json", "print one JSON object on stdout");
    if (!args.parse(argv))
        return 0;
    const session::Session s = session::Session::open(args.get("FILE"));
    const auto runs = s.runs();
    const auto evals = s.evaluations();
    const auto sweeps = s.sweeps();
    const auto tables = s.mxqCostTableNames();
    const auto log = s.log();
    if (args.has("json")) {
        nlohmann::json j = {{"file", s.info().path}, {"version", s.info().version}, {"created", s.info().created},
                            {"writer", s.info().writer}};
        j["runs"] = nlohmann::json::array();
        for (const auto& r : runs) {
            j["runs"].push_back(runJson(r, evals));
            auto& fallbacks = j["runs"].back()["fallbacks"] = nlohmann::json::array();
            for (const auto& m : s.matrices(r.name))
                if (!m.fallback.empty())
                    fallbacks.push_back({{"tensor", m.tensor}, {"fallback", m.fallback}, {"damping", m.damping}});
        }
        j["evaluations"] = nlohmann::json::array();
        for (const auto& e : evals)
            j["evaluations"].push_back({{"id", e.id}, {"run", e.run}, {"model", e.model}, {"dataset", e.dataset},
                                        {"protocol", e.protocol}, {"seqlen", e.seqlen},
                                        {"perplexity", e.perplexity}, {"tokens", e.tokens}, {"created", e.created}});
        j["sweeps"] = nlohmann::json::array();
        for (const auto& sw : sweeps) {
            nlohmann::json pts = nlohmann::json::array();
            for (const auto& p : sw.points) {
                nlohmann::json ppl = nlohmann::json::object();
                for (const auto& [ds, v] : p.perplexity)
                    ppl[ds] = v;
                pts.push_back({{"value", p.value}, {"run", p.run}, {"avg_bits", p.avgBits},
                               {"avg_bits_with_overhead", p.avgBitsWithOverhead}, {"perplexity", ppl}});
            }
            j["sweeps"].push_back({{"name", sw.name}, {"method", sw.method}, {"axis", sw.axis}, {"points", pts}});
        }
        j["mxq_cost_tables"] = tables;
        j["warnings"] = log.size();
        std::cout << withMemory(j).dump() << std::endl;
        return 0;
    }
    std::printf("%s: MPQ session, schema version %d, created %s by %s\n", s.info().path.c_str(), s.info().version,
                s.info().created.c_str(), s.info().writer.c_str());
    std::printf("\n%zu run%s\n", runs.size(), runs.size() == 1 ? "" : "s");
    if (!runs.empty())
        std::printf("  %-20s %-16s %-12s %-7s %-9s %-9s %s\n", "name", "method", "status", "layers", "bits",
                    "w/ ovh", "settings");
    for (const auto& r : runs) {
        const std::string layers = std::to_string(r.layersDone.size()) + "/" + std::to_string(r.layersTotal);
        std::printf("  %-20s %-16s %-12s %-7s %-9.4f %-9.4f %s\n", r.name.c_str(), r.method.c_str(),
                    session::statusName(r.status), layers.c_str(), r.avgBits, r.avgBitsWithOverhead,
                    settingsSummary(r.method, r.settingsJson).c_str());
        for (const auto& e : evals)
            if (e.run == r.name)
                std::printf("  %-20s   perplexity %.4f on %s (%s, seqlen %lld)\n", "", e.perplexity,
                            e.dataset.c_str(), e.protocol.c_str(), (long long)e.seqlen);
        for (const auto& [layer, why] : r.damagedLayers)
            std::printf("  %-20s   DAMAGED layer %lld (mpq quantize --resume %s#%s recomputes it): %s\n", "",
                        (long long)layer, s.info().path.c_str(), r.name.c_str(), why.c_str());
        int fallbacks = 0;
        for (const auto& m : s.matrices(r.name))
            fallbacks += !m.fallback.empty();
        if (fallbacks > 0)
            std::printf("  %-20s   GPTQ fallback (H not positive definite) on %d matrices: see --json\n", "",
                        fallbacks);
    }
    std::printf("\n%zu evaluation%s\n", evals.size(), evals.size() == 1 ? "" : "s");
    for (const auto& e : evals)
        std::printf("  #%lld %-24s %-10s %-9s seqlen %-6lld perplexity %.4f\n", (long long)e.id,
                    (e.run.empty() ? e.model : e.run).c_str(), e.dataset.c_str(), e.protocol.c_str(),
                    (long long)e.seqlen, e.perplexity);
    std::printf("\n%zu sweep%s\n", sweeps.size(), sweeps.size() == 1 ? "" : "s");
    for (const auto& sw : sweeps) {
        std::printf("  %s: %s over %s, %zu points\n", sw.name.c_str(), sw.method.c_str(), sw.axis.c_str(),
                    sw.points.size());
        for (const auto& p : sw.points) {
            std::printf("    %s=%g  %-18s %.3f bits (%.3f w/ ovh)", sw.axis.c_str(), p.value, p.run.c_str(),
                        p.avgBits, p.avgBitsWithOverhead);
            for (const auto& [ds, v] : p.perplexity)
                std::printf("  %s %.3f", ds.c_str(), v);
            std::printf("\n");
        }
    }
    std::printf("\n%zu MXQ cost table%s", tables.size(), tables.size() == 1 ? "" : "s");
    for (const auto& t : tables)
        std::printf(" %s", t.c_str());
    std::printf("\n%zu warning%s logged\n", log.size(), log.size() == 1 ? "" : "s");
    for (const auto& w : log)
        std::printf("  %s %s: %s\n", w.time.c_str(), w.run.c_str(), w.message.c_str());
    return 0;
}

int runVerify(const std::vector<std::string>& argv)
{
    Args args("session verify",
              "Reads everything a session file stores -- every run's per-matrix arrays and every stored\n"
              "decoder layer (dequantized), the evaluations, sweeps, MXQ cost tables and the warning log --\n"
              "and checks every checksum (Fletcher-32 on arrays, SHA-256 on texts, HDF5's metadata\n"
              "checksums). Each damaged object is listed by name; the rest are still read. Prints a\n"
              "SHA-256 of the content read (equal for equal content). Exit status: 0 intact, 1 damaged.\n"
              "`mpq quantize ... --session FILE --resume` recomputes damaged layers.");
    args.positional("FILE", "session file (.h5)");
    args.flag("json", "print one JSON object on stdout");
    if (!args.parse(argv))
        return 0;
    JobContext ctx;
    attachToTerminal(ctx);
    ctx.start("verify");
    const session::VerifyReport r =
        session::verifySession(args.get("FILE"), [&](int64_t done, int64_t total, const std::string& what) {
            if (ctx.isCancelled())
                throw Cancelled();
            ctx.report(done, total, "objects", what);
            return true;
        });
    endProgressLine();
    if (args.has("json")) {
        nlohmann::json j = {{"file", r.path},           {"intact", r.intact()},
                            {"objects_read", r.objectsRead}, {"layers_read", r.layersRead},
                            {"content_sha256", r.contentDigest}};
        j["problems"] = nlohmann::json::array();
        for (const auto& p : r.problems)
            j["problems"].push_back({{"object", p.object}, {"error", p.message}});
        std::cout << withMemory(j).dump() << std::endl;
    } else if (r.intact()) {
        std::printf("%s: intact: %lld objects read (%lld decoder layers); content sha256 %s\n", r.path.c_str(),
                    static_cast<long long>(r.objectsRead), static_cast<long long>(r.layersRead),
                    r.contentDigest.c_str());
    } else {
        std::printf("%s: %zu damaged object%s (%lld read intact):\n", r.path.c_str(), r.problems.size(),
                    r.problems.size() == 1 ? "" : "s", static_cast<long long>(r.objectsRead));
        for (const auto& p : r.problems)
            std::printf("  %s: %s\n", p.object.c_str(), p.message.c_str());
    }
    return r.intact() ? 0 : 1;
}

} // namespace

int runSession(const std::vector<std::string>& argv)
{
    if (argv.empty()) {
        std::fputs(kSessionShortUsage, stderr);
        return 2;
    }
    if (argv[0] == "--help" || argv[0] == "-h") {
        std::fputs(kSessionUsage, stdout);
        return 0;
    }
    if (argv[0] == "ls")
        return runLs(std::vector<std::string>(argv.begin() + 1, argv.end()));
    if (argv[0] == "verify")
        return runVerify(std::vector<std::string>(argv.begin() + 1, argv.end()));
    throw UsageError("unknown session command \"" + argv[0] + "\" (ls, verify)");
}

} // namespace mpq::cli
