// The console's panels, one file each. Panels read ClientState and call its
// intent methods; they never talk to the network or to storage. UiState
// holds what only the view needs: open windows and text being typed.
#pragma once

#include <array>
#include <set>
#include <string>
#include <vector>

#include "shared/columns.h"
#include "wasm-client/state/client_state.h"

namespace reclaim::client {

// Requests for the platform layer that are not state changes.
struct ShellRequests {
  bool save_snapshot = false;
  bool open_snapshot = false;
  std::vector<Download> downloads;
};

struct UiState {
  // Login
  std::string token;
  // Filters bar
  int search_field = 0;
  std::string search_text;
  std::string range_from;
  std::string range_to;
  std::string range_error;
  // Column chooser: a working copy applied with Apply.
  bool columns_open = false;
  std::array<bool, kIncidentColumnCount> column_choice{};
  // Export panel: for the queue or for the open incident's messages.
  bool export_open = false;
  bool export_messages = false;
  std::array<bool, kIncidentColumnCount> export_incident_columns{};
  std::array<bool, kMessageColumnCount> export_message_columns{};
  std::string export_error;
  // Incident page: messages chosen for a partial restore, by row id.
  std::set<std::string> restore_choice;
  // New remediation form.
  bool remediation_open = false;
  RemediationForm remediation;
  std::string remediation_error;
  bool remediation_submitted = false;
  // Log and settings.
  bool log_open = true;
  bool settings_open = false;
  float pixel_ratio = 1.0f;
  ShellRequests shell;

  UiState();
};

// Each draws its part of the main window (or its own window) for one frame.
void DrawSyncStatus(ClientState& state, UiState& ui);
void DrawLoginPanel(ClientState& state, UiState& ui);
void DrawFiltersBar(ClientState& state, UiState& ui);
void DrawChartPanel(ClientState& state, UiState& ui);
void DrawQueuePanel(ClientState& state, UiState& ui, float height);
void DrawIncidentPanel(ClientState& state, UiState& ui, float height);
void DrawMessagePanel(ClientState& state, UiState& ui);
void DrawConfirmModal(ClientState& state, UiState& ui);
void DrawRemediationPanel(ClientState& state, UiState& ui);
void DrawExportPanel(ClientState& state, UiState& ui);
void DrawLogPanel(ClientState& state, UiState& ui, float height);
void DrawSettingsPanel(ClientState& state, UiState& ui);

// Escape closes the topmost panel: a modal, message details, the export or
// remediation window, settings, then the incident page.
void HandleEscape(ClientState& state, UiState& ui);

}  // namespace reclaim::client
