//! Firebase Auth source: auth:export JSON and header-less CSV (every historical layout) and emulator exports, streamed into the shared model.
