//! Hildebrand Glow consumer access device: MQTT JSON payloads (SENSOR/electricitymeter, gasmeter) into readings.
