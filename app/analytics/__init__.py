"""Analytics for managers: per-call metrics, KPIs against the plan's targets, cost, reports."""
