"""Gap analysis: control status (assessment), readiness scoring, phased plan, reports."""
