"""Tables and manifests, event logs, figures, the report and the per-case timeline."""
