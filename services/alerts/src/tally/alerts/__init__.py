"""The alerts service: watches answer outcomes on the bus and alerts admins on failure spikes."""
