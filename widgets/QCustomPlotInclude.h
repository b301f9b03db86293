#pragma once

// qcustomplot.h spells Qt's keyword macros (signals, slots, emit, foreach), which this project
// switches off (QT_NO_KEYWORDS, because they collide with LibTorch). They are defined for that
// one header and removed again. Include this, never <qcustomplot.h>, and only from .cpp files.
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
