"""The hubs' MQTT contract: topic strings live here and nowhere else."""
