#pragma once

#include "demo/DemoModel.h"

#include <QString>
#include <QtTest>

#include <string>

namespace mpq::test {

/// Where the shared test data (../shared/data) is, through the one setting MPQ_DATA_DIR.
/// Unset: tests that need it skip with a visible message. Set but the file missing: they fail.
struct DataLookup {
    enum Status { Found, Skip, Fail } status = Skip;
    std::string path;
    QString message;
};
DataLookup lookupData(const char* relativePath);

/// The embedded demo model (resources/demo/model, found as the programs find it): the data of
/// the test cases that must run on every clone, without MPQ_DATA_DIR. Not found is a failure
/// (mpq::Error, with the places looked at), never a skip.
mpq::DemoModel demoModel();

/// Directory with helper executables built for the tests (set by CTest).
QString toolsDir();

/// Writes a 2-layer synthetic LLaMA (hidden 32, 4 calibration windows of 16 tokens: seconds to
/// quantize) into `dir` and returns `dir`, for GUI and widget tests that run real jobs.
QString writeTinySyntheticModel(const QString& dir);

} // namespace mpq::test

/// Declares `mpq::DemoModel var`, or fails the test when the demo model is missing.
#define MPQ_DEMO_MODEL(var)                                                                      \
    mpq::DemoModel var;                                                                          \
    try {                                                                                        \
        var = mpq::test::demoModel();                                                            \
    } catch (const std::exception& e_) {                                                         \
        QFAIL(e_.what());                                                                        \
    }

/// Declares `std::string var` holding the path of a shared data file, or skips/fails the test.
#define MPQ_DATA_PATH(var, rel)                                                                  \
    std::string var;                                                                             \
    {                                                                                            \
        const auto lookup_ = mpq::test::lookupData(rel);                                         \
        if (lookup_.status == mpq::test::DataLookup::Skip)                                       \
            QSKIP(qPrintable(lookup_.message));                                                  \
        if (lookup_.status == mpq::test::DataLookup::Fail)                                       \
            QFAIL(qPrintable(lookup_.message));                                                  \
        var = lookup_.path;                                                                      \
    }
