// Message details: headers, attachments with digests, the plain-text body,
// recipients with their status and the message's history.
#include <imgui.h>

#include "wasm-client/ui/panels.h"
#include "wasm-client/ui/test_hook.h"
#include "wasm-client/ui/widgets.h"

namespace reclaim::client {
namespace {

void DrawHeaders(const ClientState& state, const MessageDetail& message) {
  if (!ImGui::BeginTable("headers", 2, ImGuiTableFlags_SizingStretchProp))
    return;
  ImGui::TableSetupColumn("label", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 7);
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  std::string recipients;
  for (const std::string& address : message.recipients)
    recipients += (recipients.empty() ? "" : ", ") + address;
  FieldRow("From", message.from);
  FieldRow("To", recipients);
  FieldRow("Subject", message.subject);
  FieldRow("Date", FormatLocalTime(state.zone(), message.date));
  FieldRow("Message-ID", message.message_id);
  FieldRow("Size", std::to_string(message.size) + " bytes");
  FieldRow("Delivered", FormatLocalTime(state.zone(), message.delivered));
  FieldRow("Mailbox", message.mailbox + " / " + message.folder +
                          (message.present ? "" : " (no longer there)"));
  ImGui::EndTable();
}

void DrawAttachments(const MessageDetail& message) {
  ImGui::Text("Attachments (%zu)", message.attachments.size());
  if (message.attachments.empty())
    return;
  ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                          ImGuiTableFlags_BordersV | ImGuiTableFlags_Resizable;
  if (!ImGui::BeginTable("attachments", 5, flags))
    return;
  ImGui::TableSetupColumn("File name");
  ImGui::TableSetupColumn("Type");
  ImGui::TableSetupColumn("Size");
  ImGui::TableSetupColumn("SHA-256");
  ImGui::TableSetupColumn("MD5");
  ImGui::TableHeadersRow();
  for (const AttachmentInfo& attachment : message.attachments) {
    ImGui::TableNextRow();
    const std::string cells[] = {attachment.filename, attachment.content_type,
                                 std::to_string(attachment.size),
                                 attachment.sha256.empty() ? "(undecodable)" : attachment.sha256,
                                 attachment.md5.empty() ? "(undecodable)" : attachment.md5};
    for (size_t c = 0; c < std::size(cells); ++c) {
      ImGui::TableSetColumnIndex(static_cast<int>(c));
      ImGui::TextWrapped("%s", cells[c].c_str());
    }
  }
  ImGui::EndTable();
}

void DrawBody(const MessageDetail& message) {
  ImGui::TextUnformatted("Body (plain text)");
  if (!message.body_available) {
    ErrorText("The body could not be read: " + message.body_error);
    return;
  }
  // Read-only: a copy the widget may point into for the frame.
  static std::string shown;
  shown = message.body_text;
  if (message.body_truncated)
    shown += "\n[... truncated]";
  ImGui::InputTextMultiline("##body", shown.data(), shown.size() + 1,
                            ImVec2(-1, ImGui::GetFontSize() * 10), ImGuiInputTextFlags_ReadOnly);
  RecordWidget("message.body");
}

void DrawRecipients(const ClientState& state, const MessageDetail& message) {
  ImGui::Text("Recipients (%zu)", message.recipient_rows.size());
  ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter;
  if (!ImGui::BeginTable("recipients", 4, flags))
    return;
  ImGui::TableSetupColumn("Recipient");
  ImGui::TableSetupColumn("Status");
  ImGui::TableSetupColumn("Failure Reason");
  ImGui::TableSetupColumn("Last Action");
  ImGui::TableHeadersRow();
  for (const MessageRow& row : message.recipient_rows) {
    ImGui::TableNextRow();
    const std::string cells[] = {row.recipient, std::string(DisplayName(row.status)),
                                 FailureDisplay(row),
                                 FormatLocalTime(state.zone(), row.last_action)};
    for (size_t c = 0; c < std::size(cells); ++c) {
      ImGui::TableSetColumnIndex(static_cast<int>(c));
      ImGui::TextUnformatted(cells[c].c_str());
    }
  }
  ImGui::EndTable();
}

void DrawHistory(const ClientState& state, const MessageDetail& message) {
  ImGui::Text("History (%zu)", message.history.size());
  ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter;
  if (!ImGui::BeginTable("history", 5, flags))
    return;
  ImGui::TableSetupColumn("Time");
  ImGui::TableSetupColumn("Incident");
  ImGui::TableSetupColumn("Status");
  ImGui::TableSetupColumn("Folder");
  ImGui::TableSetupColumn("Failure Reason");
  ImGui::TableHeadersRow();
  for (const MessageEvent& event : message.history) {
    ImGui::TableNextRow();
    std::string where = LocationText(event.folder, event.moved_to, event.status == "restored");
    const std::string cells[] = {FormatLocalTime(state.zone(), event.time), event.incident_code,
                                 event.status, where, event.failure_reason};
    for (size_t c = 0; c < std::size(cells); ++c) {
      ImGui::TableSetColumnIndex(static_cast<int>(c));
      ImGui::TextUnformatted(cells[c].c_str());
    }
  }
  ImGui::EndTable();
}

}  // namespace

void DrawMessagePanel(ClientState& state, UiState&) {
  if (!state.open_message())
    return;
  ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(display.x * 0.6f, display.y * 0.75f), ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(ImVec2(display.x * 0.5f, display.y * 0.5f), ImGuiCond_Appearing,
                          ImVec2(0.5f, 0.5f));
  bool open = true;
  if (ImGui::Begin("Message Tracking Details", &open,
                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings)) {
    if (ImGui::Button("Close"))
      open = false;
    RecordWidget("message.close");
    const MessageDetail* message = state.message_detail();
    if (!state.message_error().empty()) {
      ErrorText(state.message_error());
      RecordWidget("message.error");
    } else if (message == nullptr) {
      ImGui::TextDisabled("Loading message %s...", state.open_message()->c_str());
    } else {
      DrawHeaders(state, *message);
      ImGui::Separator();
      DrawAttachments(*message);
      ImGui::Separator();
      DrawBody(*message);
      ImGui::Separator();
      DrawRecipients(state, *message);
      ImGui::Separator();
      DrawHistory(state, *message);
    }
  }
  ImGui::End();
  if (!open)
    state.CloseMessage();
}

}  // namespace reclaim::client
