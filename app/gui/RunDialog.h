#pragma once

#include "JobRequest.h"

#include <QDialog>
#include <QVariantMap>

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace mpq::gui {

/// The run dialog: a quantization job (GPTQ, RTN, HQQ, MG-PTQ, MXQ) at one value or a sweep of
/// values, with the engine's options and the `mpq quantize` defaults, and the data sets to
/// evaluate each point on. GUI thread only.
class RunDialog : public QDialog {
    Q_OBJECT
public:
    explicit RunDialog(QWidget* parent = nullptr);

    /// Every setting of the dialog, by name (kept by the main window between jobs and sessions).
    QVariantMap state() const;
    /// Restores state(); unknown or missing keys keep the defaults.
    void restoreState(const QVariantMap& state);
    /// Preselects a method and knob values, e.g. from the trade-off slider ("mxq", {3.6}).
    void preset(const QString& method, const std::vector<double>& values);
    /// The job for `model`; `error` gets a readable reason (and the result is empty) when the
    /// values do not parse.
    std::optional<JobRequest> request(const QString& model, const QString& dataDir, QString* error) const;

private:
    void updateVisibility();

    QComboBox* m_method = nullptr;
    QComboBox* m_axis = nullptr;
    QLineEdit* m_values = nullptr;
    QLabel* m_valuesHint = nullptr;
    QSpinBox* m_groupSize = nullptr;
    QCheckBox* m_actOrder = nullptr;
    QCheckBox* m_symmetric = nullptr;
    QLineEdit* m_calib = nullptr;
    QSpinBox* m_nsamples = nullptr;
    QSpinBox* m_seqlen = nullptr;
    QComboBox* m_device = nullptr;
    QGroupBox* m_mgptq = nullptr;
    QComboBox* m_gnn = nullptr;
    QLineEdit* m_bitsSet = nullptr;
    QSpinBox* m_epochs = nullptr;
    QGroupBox* m_mxq = nullptr;
    QLineEdit* m_configs = nullptr;
    QComboBox* m_mxqCost = nullptr;
    QCheckBox* m_evalWiki = nullptr;
    QCheckBox* m_evalC4 = nullptr;
    QSpinBox* m_evalWindows = nullptr;
};

} // namespace mpq::gui
