#pragma once

#include "HessianGraphData.h"
#include "RunData.h"
#include "Workbench.h"

#include "session/Session.h"

#include <QString>

#include <cstdint>
#include <string>
#include <vector>

namespace mpq::gui {

/// Reads an HDF5 session file (engine/session/Session.h, docs/session-format.md) into the views'
/// plain structs: runs with their per-column bits, errors and training curves, evaluations (runs',
/// the unquantized reference's, and result folders': each evaluated folder is shown as a run), sweeps (each point's knob), the MXQ cost tables, and a
/// matrix's stored Hessian graph. A running job's journaled layers are included (the engine's
/// reader overlays them). Every function throws mpq::Error with the engine's message, naming the
/// file, for a missing, damaged, truncated, foreign or newer-version file; none opens a dialog.
/// Thread-safe (no shared state; the engine serialises HDF5 calls).
struct SessionReader {
    /// Opens `path` and fills a Workbench (sessionFile = `path`, model from the newest run).
    static Workbench load(const QString& path);
    /// The same from an opened snapshot.
    static Workbench fromSession(const session::Session& s);
    /// One run with every stored matrix (column bits, errors, curves); `complete` is true only
    /// for runs whose status is "complete".
    static RunData readRun(const session::Session& s, const std::string& run);
    /// The matrices of decoder layer `layer` of a run (empty when that layer is not stored).
    static std::vector<MatrixResult> readLayer(const session::Session& s, const std::string& run, int64_t layer);
    /// The stored Hessian graph of one matrix: diag H, the sparsified adjacency as symmetric
    /// edges (never expanded to cols²: every width, 11008-column down_proj included, has its
    /// graph), the column bits, and a key naming the stored graph (file, run and its creation
    /// time, tensor) under which views cache what they derive. `available` is false, with the
    /// reason in `source`, for data-free runs. Reads the matrix's arrays as Session::matrix() does
    /// (a dense H is read only where the run stored one: cols ≤ --store-hessian, 1024 by default).
    static HessianGraphData hessianGraph(const session::Session& s, const QString& run, const QString& tensor);
    /// A session run name ([A-Za-z0-9._-], ≤ 64 characters) made from any text.
    static QString runNameFrom(const QString& text);
};

} // namespace mpq::gui
