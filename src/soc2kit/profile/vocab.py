"""The fixed vocabularies of the company profile, with the label used in rendered text.

Each vocabulary is a dict ``key -> (label, description)``; the schema's ``Literal`` types must list
the same keys (a test checks this), so the docs, the questionnaire and the templates all agree.
"""

from __future__ import annotations

USE_CASES: dict[str, tuple[str, str]] = {
    "llm_application": ("LLM application", "a product built on large language models: chat, summarisation, retrieval-augmented answers"),
    "ai_agent": ("AI agent", "a system whose model outputs take actions through tools or APIs"),
    "generative_media": ("generative media", "generation of images, audio or video"),
    "predictive_model": ("predictive model", "scoring, forecasting or classification on structured data"),
    "computer_vision": ("computer vision", "models that interpret images or video"),
    "speech": ("speech", "speech recognition or synthesis"),
    "recommendation": ("recommendation", "ranking or recommending content, products or people"),
    "decision_support": ("decision support", "model outputs that inform human decisions about people (clinical, credit, hiring)"),
}

DATA_TYPES: dict[str, tuple[str, str]] = {
    "pii": ("personal information (PII)", "information that identifies or relates to an individual"),
    "phi": ("protected health information (PHI)", "health information about individuals, as defined by HIPAA"),
    "payment_card": ("payment card data", "cardholder data in scope of PCI DSS"),
    "biometric": ("biometric data", "face geometry, voiceprints, fingerprints and similar identifiers"),
    "children": ("children's personal information", "personal information of children under 13 (or under 16 in the EU)"),
    "customer_confidential": ("customer confidential data", "customers' business data entrusted to the company under contract"),
}

REGULATIONS: dict[str, tuple[str, str]] = {
    "gdpr": ("GDPR", "EU General Data Protection Regulation"),
    "uk_gdpr": ("UK GDPR", "UK General Data Protection Regulation and Data Protection Act 2018"),
    "ccpa": ("CCPA/CPRA", "California Consumer Privacy Act as amended by the CPRA"),
    "hipaa": ("HIPAA", "US Health Insurance Portability and Accountability Act (Privacy, Security and Breach Notification Rules)"),
    "eu_ai_act": ("EU AI Act", "EU Artificial Intelligence Act"),
    "pci_dss": ("PCI DSS", "Payment Card Industry Data Security Standard"),
    "coppa": ("COPPA", "US Children's Online Privacy Protection Act"),
    "bipa": ("BIPA", "Illinois Biometric Information Privacy Act"),
}

TSC_CATEGORIES: dict[str, tuple[str, str]] = {
    "security": ("Security", "the common criteria CC1-CC9; always in scope"),
    "availability": ("Availability", "criteria A1.1-A1.3"),
    "confidentiality": ("Confidentiality", "criteria C1.1-C1.2"),
    "processing_integrity": ("Processing Integrity", "criteria PI1.1-PI1.5"),
    "privacy": ("Privacy", "criteria P1.1-P8.1"),
}

CLOUDS: dict[str, tuple[str, str]] = {
    "aws": ("Amazon Web Services (AWS)", ""),
    "gcp": ("Google Cloud (GCP)", ""),
    "azure": ("Microsoft Azure", ""),
    "oci": ("Oracle Cloud Infrastructure (OCI)", ""),
    "on_prem": ("company-operated data centres", ""),
    "other": ("other hosting providers", ""),
}

FREQUENCIES: dict[str, tuple[str, str]] = {
    "continuous": ("continuously", "continuously"),
    "daily": ("day", "daily"),
    "weekly": ("week", "weekly"),
    "monthly": ("month", "monthly"),
    "quarterly": ("quarter", "quarterly"),
    "semiannual": ("six months", "semi-annually"),
    "annual": ("year", "annually"),
    "per_event": ("occurrence", "per event"),
}

#: Days between occurrences, for review dates and evidence freshness.
FREQUENCY_DAYS: dict[str, int | None] = {
    "continuous": 1,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "semiannual": 183,
    "annual": 366,
    "per_event": None,
}

ROLES: dict[str, tuple[str, str]] = {
    "ceo": ("Chief Executive Officer", "approves policies, accepts risk, owns the security program"),
    "security_officer": ("Security Officer", "runs the security and compliance program day to day"),
    "head_of_engineering": ("Head of Engineering", "owns production systems, change management and availability"),
    "head_of_ml": ("Head of ML", "owns models, training data and AI evaluation"),
    "privacy_officer": ("Privacy Officer", "owns privacy notices, data-subject requests and privacy assessments"),
    "people_lead": ("People Lead", "owns hiring, onboarding, offboarding and training records"),
    "legal_counsel": ("Legal Counsel", "owns contracts, regulatory notifications and data-processing agreements"),
}


def label(vocab: dict[str, tuple[str, str]], key: str) -> str:
    entry = vocab.get(key)
    return entry[0] if entry else key
