"""Analytics for managers: sentiment and satisfaction scored at hang-up, per-call metrics,
KPIs against the plan's targets, cost, reports."""
