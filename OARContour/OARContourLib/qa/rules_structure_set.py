"""QA rules on the structure set as a whole: template coverage, one EXTERNAL, names for the TPS."""

from __future__ import annotations

from ..finding_codes import FindingCode
from ..findings import Finding, Severity
from ..name_rules import externals
from ..naming.validate import check_unique, validate_name
from .context import QAContext
from .rule import QARule


class TemplateMissing(QARule):
    code = "TEMPLATE_MISSING"
    description = "A required structure of the chosen site template is absent (compared ignoring case)."
    hint = "Contour the missing structure (or choose another site template)."

    def check(self, context: QAContext) -> list[Finding]:
        if context.template is None:
            return []
        present = {s.name.casefold() for s in context.structures}
        return [self.finding(f"Template '{context.template}' requires '{entry.tg263_name}', which is missing.",
                             entry.tg263_name)
                for entry in context.tables.template(context.template)
                if entry.required and entry.tg263_name.casefold() not in present]


class MultipleExternal(QARule):
    """More than one structure of RT ROI type EXTERNAL."""

    code = FindingCode.MULTIPLE_EXTERNAL.code
    description = FindingCode.MULTIPLE_EXTERNAL.description
    severity = FindingCode.MULTIPLE_EXTERNAL.severity
    hint = FindingCode.MULTIPLE_EXTERNAL.hint

    def check(self, context: QAContext) -> list[Finding]:
        external = externals((s.name, s.roi_type) for s in context.structures)
        if len(external) < 2:
            return []
        listed = ", ".join(f"'{n}'" for n in external)
        return [self.finding(f"{len(external)} structures have type EXTERNAL: {listed}.", external[1])]


class NameInvalidForTps(QARule):
    """Error-level findings of :func:`~..naming.validate.validate_name` for the TPS profile."""

    code = "NAME_INVALID_FOR_TPS"
    description = "A name the TPS profile refuses (length, characters), as naming.validate reports it."
    severity = Severity.ERROR

    def check(self, context: QAContext) -> list[Finding]:
        findings = []
        for structure in context.structures:
            for problem in validate_name(structure.name, context.tables, profile=context.tps):
                if problem.severity is Severity.ERROR:
                    findings.append(Finding(self.code, self.severity,
                                            f"{problem.message} ({problem.code}, profile '{context.tps}')",
                                            roi_name=structure.name, hint=problem.hint))
        return findings


class NameDuplicate(QARule):
    """Names equal ignoring case (:func:`~..naming.validate.check_unique`)."""

    code = FindingCode.DUPLICATE_ROI_NAME.code
    description = FindingCode.DUPLICATE_ROI_NAME.description
    severity = FindingCode.DUPLICATE_ROI_NAME.severity
    hint = FindingCode.DUPLICATE_ROI_NAME.hint

    def check(self, context: QAContext) -> list[Finding]:
        return [f for f in check_unique(s.name for s in context.structures) if f.code == self.code]
