#pragma once

#include <cstdint>
#include <string>

namespace mpq::demo {

/// Short children's stories from a small hand-written grammar (names, animals, places, objects,
/// about forty sentence patterns), for the embedded demo model: the text it is trained on and the
/// text it is evaluated on. Deterministic for a seed on every platform (its own xorshift
/// generator, no std distributions). The grammar and its output are part of MPQ Workbench
/// (GPL-3.0-or-later); no outside text is used.
std::string generateStories(uint64_t seed, int stories);

} // namespace mpq::demo
