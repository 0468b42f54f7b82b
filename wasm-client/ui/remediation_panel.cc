// The new remediation form, with the running job's progress and the result.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

void Field(const char* label, const char* name, const char* hint, std::string* text) {
  ImGui::TextUnformatted(label);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 28);
  InputStringWithHint((std::string("##") + name).c_str(), hint, text);
  RecordWidget(std::string("remediation.") + name);
}

}  // namespace

void DrawRemediationPanel(ClientState& state, UiState& ui) {
  if (!ui.remediation_open)
    return;
  const float em = ImGui::GetFontSize();
  ImGui::SetNextWindowPos(ImVec2(ImGui::GetIO().DisplaySize.x * 0.5f, em * 4), ImGuiCond_Appearing,
                          ImVec2(0.5f, 0));
  if (ImGui::Begin("New remediation", &ui.remediation_open,
                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings |
                       ImGuiWindowFlags_AlwaysAutoResize)) {
    RemediationForm& form = ui.remediation;
    // The window fits its content each frame, and the result and the
    // progress come first, so they stay in view on a 900-pixel-high viewport
    // when the result line appears after the window opened.
    if (!ui.remediation_error.empty())
      ErrorText(ui.remediation_error);
    if (ui.remediation_submitted) {
      if (const std::optional<Incident>& incident = state.remediation_result()) {
        const MessageCounts& counts = incident->counts;
        NoticeText("Incident " + FormatIncidentCode(incident->code) + ": " +
                   std::to_string(counts.identified) + " identified, " +
                   std::to_string(counts.removed) + " removed, " + std::to_string(counts.failed) +
                   " failed");
        RecordWidget("remediation.result");
      }
      if (const std::optional<JobStatus>& job = state.job()) {
        std::string overlay =
            job->state + ": " + std::to_string(job->done) + " of " + std::to_string(job->total);
        ImGui::ProgressBar(job->Progress(), ImVec2(-1, 0), overlay.c_str());
        RecordWidget("remediation.progress");
      }
    }
    if (!ui.remediation_error.empty() || ui.remediation_submitted)
      ImGui::Separator();
    Field("Message-ID or file hash (SHA-256 or MD5)", "identifier", "<id@example.com> or hex",
          &form.identifier);
    Field("Reason", "reason", "Why the message is remediated", &form.reason);
    Field("Sender (optional)", "from", "sender@example.net", &form.from);
    Field("Recipient (optional)", "to", "user@example.com", &form.to);
    Field("Delivered from (optional, local time)", "start",
          "YYYY-MM-DD HH:MM (default 30 days ago)", &form.start);
    Field("Delivered until (optional, local time)", "end", "YYYY-MM-DD HH:MM (default now)",
          &form.end);
    if (ImGui::RadioButton("Remove", !form.notify_only))
      form.notify_only = false;
    RecordWidget("remediation.action.remove");
    ImGui::SameLine();
    if (ImGui::RadioButton("Notify Only", form.notify_only))
      form.notify_only = true;
    RecordWidget("remediation.action.notify_only");

    ImGui::BeginDisabled(state.remediation_in_flight());
    if (ImGui::Button(state.remediation_in_flight() ? "Submitting..." : "Submit")) {
      Status status = state.SubmitRemediation(form);
      ui.remediation_error = status.ok() ? "" : status.message();
      ui.remediation_submitted = status.ok();
    }
    ImGui::EndDisabled();
    RecordWidget("remediation.submit");
    ImGui::SameLine();
    if (ImGui::Button("Close"))
      ui.remediation_open = false;
    RecordWidget("remediation.close");
  }
  ImGui::End();
}

}  // namespace reclaim::client
