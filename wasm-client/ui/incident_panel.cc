// One incident: summary, counts, criteria, failure reasons, actions taken
// and its messages by recipient, with Remove, Restore and the confirmation.
#include <imgui.h>

#include <algorithm>
#include <map>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

std::string IdentifierKindName(const std::string& identifier) {
  switch (ClassifyIdentifier(identifier)) {
    case IdentifierKind::kSha256:
      return "File hash (SHA-256)";
    case IdentifierKind::kMd5:
      return "File hash (MD5)";
    case IdentifierKind::kMessageId:
      return "Message ID";
  }
  return {};
}

void DrawSummary(const ClientState& state, const Incident& incident) {
  const TimeZone& zone = state.zone();
  if (!ImGui::BeginTable("summary", 2, ImGuiTableFlags_SizingStretchProp))
    return;
  ImGui::TableSetupColumn("label", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 11);
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  FieldRow("Incident ID", FormatIncidentCode(incident.code));
  FieldRow("Type", std::string(DisplayName(incident.code.type)));
  FieldRow("Date Created", FormatLocalTime(zone, incident.created));
  FieldRow("Last Updated", FormatLocalTime(zone, incident.modified));
  FieldRow("Reason", incident.reason);
  if (!incident.restores.empty())
    FieldRow("Restores", incident.restores);
  const MessageCounts& counts = incident.counts;
  FieldRow("Messages", std::to_string(counts.identified) + " identified, " +
                           std::to_string(counts.removed) + " removed, " +
                           std::to_string(counts.failed) + " failed, " +
                           std::to_string(counts.restored) + " restored");
  const SearchCriteria& criteria = incident.criteria;
  FieldRow(IdentifierKindName(criteria.identifier).c_str(), criteria.identifier);
  FieldRow("Sender", criteria.from.empty() ? "any" : criteria.from);
  FieldRow("Recipient", criteria.to.empty() ? "any" : criteria.to);
  FieldRow("Delivered between",
           FormatLocalTime(zone, criteria.start) + " and " + FormatLocalTime(zone, criteria.end));
  ImGui::EndTable();
}

void DrawFailureReasons(const std::vector<MessageRow>& messages) {
  std::map<std::string, int> reasons;
  for (const MessageRow& row : messages) {
    std::string text = FailureDisplay(row);
    if (!text.empty())
      ++reasons[text];
  }
  ImGui::TextUnformatted("Failure reasons");
  if (reasons.empty())
    ImGui::TextDisabled("  none");
  for (const auto& [text, count] : reasons)
    ImGui::BulletText("%s (%d)", text.c_str(), count);
}

void DrawActions(const ClientState& state, const Incident& incident,
                 const std::vector<MessageRow>& messages) {
  std::vector<const MessageRow*> acted;
  for (const MessageRow& row : messages)
    if (row.last_action != 0)
      acted.push_back(&row);
  std::sort(acted.begin(), acted.end(), [](const MessageRow* a, const MessageRow* b) {
    return a->last_action < b->last_action;
  });
  ImGui::TextUnformatted("Actions taken");
  ImGui::BulletText("%s  Incident created: %s",
                    FormatLocalTime(state.zone(), incident.created).c_str(),
                    incident.reason.c_str());
  for (const MessageRow* row : acted) {
    // A failed row has no folder, so its failure reason is shown instead.
    std::string detail =
        LocationText(row->folder, row->moved_to, row->status == MessageStatus::kRestored);
    if (row->status == MessageStatus::kFailed)
      detail = FailureDisplay(*row);
    std::string suffix = detail.empty() ? "" : " (" + detail + ")";
    ImGui::BulletText("%s  %s %s%s", FormatLocalTime(state.zone(), row->last_action).c_str(),
                      DisplayName(row->status).data(), row->recipient.c_str(), suffix.c_str());
  }
}

void DrawMessages(ClientState& state, UiState& ui, const std::vector<MessageRow>& messages,
                  float height) {
  ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX |
                          ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                          ImGuiTableFlags_BordersV | ImGuiTableFlags_Resizable;
  if (!ImGui::BeginTable("messages", 9, flags, ImVec2(0, height)))
    return;
  const float em = ImGui::GetFontSize();
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("Restore", ImGuiTableColumnFlags_WidthFixed, em * 4);
  ImGui::TableSetupColumn("Recipient", ImGuiTableColumnFlags_WidthFixed, em * 13);
  ImGui::TableSetupColumn("Status", ImGuiTableColumnFlags_WidthFixed, em * 6);
  ImGui::TableSetupColumn("Sender", ImGuiTableColumnFlags_WidthFixed, em * 12);
  ImGui::TableSetupColumn("Subject", ImGuiTableColumnFlags_WidthFixed, em * 14);
  ImGui::TableSetupColumn("Delivered", ImGuiTableColumnFlags_WidthFixed, em * 8.5f);
  ImGui::TableSetupColumn("Folder", ImGuiTableColumnFlags_WidthFixed, em * 10);
  ImGui::TableSetupColumn("Failure Reason", ImGuiTableColumnFlags_WidthFixed, em * 16);
  ImGui::TableSetupColumn("Last Action", ImGuiTableColumnFlags_WidthFixed, em * 8.5f);
  ImGui::TableHeadersRow();

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(messages.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const MessageRow& row = messages[static_cast<size_t>(i)];
      ImGui::TableNextRow();
      ImGui::PushID(i);
      ImGui::TableSetColumnIndex(0);
      if (row.status == MessageStatus::kRemoved) {
        bool chosen = ui.restore_choice.count(row.id) != 0;
        if (ImGui::Checkbox("##choose", &chosen)) {
          if (chosen)
            ui.restore_choice.insert(row.id);
          else
            ui.restore_choice.erase(row.id);
        }
        RecordWidget("incident.select." + row.id);
      }
      ImGui::TableSetColumnIndex(1);
      if (ImGui::Selectable(row.recipient.empty() ? "(no recipient)" : row.recipient.c_str()))
        state.OpenMessage(row.id);
      RecordWidget("incident.message." + row.id);
      std::string where =
          LocationText(row.folder, row.moved_to, row.status == MessageStatus::kRestored);
      const std::string cells[] = {
          std::string(DisplayName(row.status)),          row.sender, row.subject,
          FormatLocalTime(state.zone(), row.delivered),  where,      FailureDisplay(row),
          FormatLocalTime(state.zone(), row.last_action)};
      for (size_t c = 0; c < std::size(cells); ++c) {
        ImGui::TableSetColumnIndex(static_cast<int>(c + 2));
        ImGui::TextUnformatted(cells[c].c_str());
      }
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

// Whether a copy is in the hold folder now, from the loaded rows, or from the
// incident's counts until the rows load.
bool HasRemovedCopy(const ClientState& state, const Incident& incident) {
  const IncidentDetail* detail = state.incident_detail();
  if (detail == nullptr || !state.incident_messages_loaded())
    return incident.counts.removed > incident.counts.restored;
  return std::any_of(detail->messages.begin(), detail->messages.end(),
                     [](const MessageRow& row) { return row.status == MessageStatus::kRemoved; });
}

void DrawCommands(ClientState& state, UiState& ui, const Incident& incident) {
  if (ImGui::Button("< Back to incidents")) {
    state.CloseIncident();
    ui.restore_choice.clear();
    return;
  }
  RecordWidget("incident.back");
  ImGui::SameLine();
  ImGui::Text("%s", FormatIncidentCode(incident.code).c_str());
  ImGui::SameLine();
  if (ImGui::Button("Export Data")) {
    ui.export_open = true;
    ui.export_messages = true;
    ui.export_error.clear();
  }
  RecordWidget("incident.export");
  if (incident.code.type == IncidentType::kNotifyOnly) {
    ImGui::SameLine();
    if (ImGui::Button("Remove"))
      (void)state.AskRemove();
    RecordWidget("incident.remove");
  }
  if (incident.code.type != IncidentType::kRestore) {
    ImGui::SameLine();
    ImGui::BeginDisabled(!HasRemovedCopy(state, incident));
    if (ImGui::Button("Restore all"))
      (void)state.AskRestore({});
    ImGui::EndDisabled();
    RecordWidget("incident.restore");
    ImGui::SameLine();
    ImGui::BeginDisabled(ui.restore_choice.empty());
    std::string label = "Restore chosen (" + std::to_string(ui.restore_choice.size()) + ")";
    if (ImGui::Button(label.c_str()))
      (void)state.AskRestore({ui.restore_choice.begin(), ui.restore_choice.end()});
    RecordWidget("incident.restore_selected");
    ImGui::EndDisabled();
  }
}

void DrawJob(const ClientState& state) {
  const std::optional<JobStatus>& job = state.job();
  if (!job)
    return;
  std::string overlay = job->kind + " " + job->state + ": " + std::to_string(job->done) + " of " +
                        std::to_string(job->total);
  ImGui::ProgressBar(job->Progress(), ImVec2(ImGui::GetFontSize() * 24, 0), overlay.c_str());
  RecordWidget("job.progress");
  if (!job->error.empty())
    ErrorText(job->error);
}

}  // namespace

void DrawIncidentPanel(ClientState& state, UiState& ui, float height) {
  const IncidentDetail* detail = state.incident_detail();
  if (detail == nullptr) {
    if (ImGui::Button("< Back to incidents"))
      state.CloseIncident();
    RecordWidget("incident.back");
    if (!state.incident_error().ok())
      ErrorText(state.incident_error().Display());
    else
      ImGui::TextDisabled("Loading %s...", state.open_incident()->c_str());
    return;
  }
  float top = ImGui::GetCursorPosY();
  DrawCommands(state, ui, detail->incident);
  if (!state.open_incident())
    return;  // Back was clicked
  DrawJob(state);
  if (!state.incident_error().ok())
    ErrorText(state.incident_error().Display());

  const float em = ImGui::GetFontSize();
  if (ImGui::BeginTable("incident-layout", 2, ImGuiTableFlags_SizingStretchSame)) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    DrawSummary(state, detail->incident);
    ImGui::TableSetColumnIndex(1);
    DrawFailureReasons(detail->messages);
    ImGui::Spacing();
    DrawActions(state, detail->incident, detail->messages);
    ImGui::EndTable();
  }
  ImGui::Separator();
  ImGui::Text("Messages by recipient (%zu)", detail->messages.size());
  if (!state.incident_messages_loaded())
    ImGui::TextDisabled("Message rows come from the server; the local copy has only the summary.");
  float used = ImGui::GetCursorPosY() - top;
  DrawMessages(state, ui, detail->messages, std::max(height - used, em * 8));
}

void DrawConfirmModal(ClientState& state, UiState&) {
  if (state.confirmation() && !ImGui::IsPopupOpen("Confirm"))
    ImGui::OpenPopup("Confirm");
  ImVec2 center(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.4f);
  ImGui::SetNextWindowPos(center, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (!ImGui::BeginPopupModal("Confirm", nullptr, ImGuiWindowFlags_AlwaysAutoResize))
    return;
  if (!state.confirmation()) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  ImGui::TextUnformatted(state.confirmation()->Text().c_str());
  RecordWidget("confirm.text");
  ImGui::Spacing();
  if (ImGui::Button("OK", ImVec2(ImGui::GetFontSize() * 6, 0))) {
    state.Confirm();
    ImGui::CloseCurrentPopup();
  }
  RecordWidget("confirm.ok");
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(ImGui::GetFontSize() * 6, 0))) {
    state.CancelConfirmation();
    ImGui::CloseCurrentPopup();
  }
  RecordWidget("confirm.cancel");
  ImGui::EndPopup();
}

}  // namespace reclaim::client
