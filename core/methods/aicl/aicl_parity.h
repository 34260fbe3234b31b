// One AICL training step on given weights and batch, written in the layout of the oracle's official_step.py.
#pragma once
#include <string>

namespace aicl {

// Reads WEIGHTS (official state_dict keys) and BATCH (features [B,T,2048], labels [B,C]), runs forward and backward,
// and writes OUT with loss/*, grad/<key>, cas, actionness/{class_aware,class_agnostic} and debug/* (atomically).
void run_parity_step(const std::string& weights_path, const std::string& batch_path, const std::string& out_path);

}  // namespace aicl
