//! A stored event of the tracker (`/api/tracker`), as the importer keeps it
//! and the checks and the export read it.

use serde_json::{Value, json};

/// A stored event, with metadata as uids.
#[derive(Debug, Clone)]
pub struct Event {
    pub uid: String,
    pub program: String,
    pub program_stage: String,
    pub org_unit: String,
    pub status: String,
    pub occurred_at: String,
    pub completed_at: Option<String>,
    pub data_values: Vec<(String, String)>,
}

impl Event {
    pub fn to_json(&self) -> Value {
        let values: Vec<Value> = self
            .data_values
            .iter()
            .map(|(de, v)| json!({"dataElement": de, "value": v}))
            .collect();
        json!({
            "event": self.uid,
            "program": self.program,
            "programStage": self.program_stage,
            "orgUnit": self.org_unit,
            "status": self.status,
            "occurredAt": self.occurred_at,
            "completedAt": self.completed_at,
            "dataValues": values,
        })
    }
}
