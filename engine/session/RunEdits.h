#pragma once

// Renaming and deleting a run of a session (docs/session-format.md, "Run edits"), in plain C++
// for the GUI's run menu. Like the other small edits (Session.h) each rewrites the file to a
// temporary, syncs it and renames it over the session, under the session's lock.

#include <string>

namespace mpq::session {

/// Renames run `from` to `to` everywhere the session names it: the run, its evaluations (run and
/// "FILE#RUN" model), the sweep points and an MXQ cost table stored under the run's name.
/// Throws mpq::Error when `to` is not a valid run name or taken, `from` does not exist, or
/// `from` has a journal (running, or interrupted and not merged: resume or delete it first).
void renameRun(const std::string& path, const std::string& from, const std::string& to);

/// Deletes run `name`: the run with its layers, its evaluations and its points in sweeps (a
/// sweep left without points goes too), and an interrupted run's journal. MXQ cost tables stay
/// (they describe the model, not the run). Throws mpq::Error when the run does not exist or a
/// process is writing it.
void deleteRun(const std::string& path, const std::string& name);

} // namespace mpq::session
