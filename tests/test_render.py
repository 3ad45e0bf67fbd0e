"""The sandboxed rendering environment: filters, escaping, and what a template may not do."""

from __future__ import annotations

import jinja2
import pytest
from jinja2.sandbox import SecurityError

from soc2kit.render.environment import cadence, escape_markdown, every, join_and, markdown_env, text_env


def test_frequency_filters_read_well_for_every_value():
    assert every("quarterly") == "quarter" and every("annual") == "year" and every("semiannual") == "six months"
    assert cadence("daily") == "every day" and cadence("continuous") == "continuously" and cadence("per_event") == "at each occurrence"
    with pytest.raises(jinja2.TemplateRuntimeError):
        every("fortnightly")


def test_join_and():
    assert join_and([]) == "" and join_and(["a"]) == "a" and join_and(["a", "b"]) == "a and b"
    assert join_and(["a", "b", "c"], "or") == "a, b or c"


def test_profile_values_are_escaped_in_markdown_but_template_markdown_is_not():
    env = markdown_env()
    out = env.from_string("**{{ name }}** and {{ n }}").render(name="*Acme* <b> {{x}} [l](javascript:x) _a_ | & #", n=3)
    assert out.startswith("**\\*Acme\\* \\<b\\> \\{\\{x\\}\\} \\[l\\](javascript:x) \\_a\\_ \\| \\& \\#**")
    assert escape_markdown("plain text, 42.") == "plain text, 42."


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ company.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
])
def test_the_sandbox_refuses_introspection(source):
    env = markdown_env()
    with pytest.raises((SecurityError, jinja2.UndefinedError)):
        env.from_string(source).render(company={"name": "x"})


def test_undefined_variables_are_errors_not_empty_text():
    with pytest.raises(jinja2.UndefinedError):
        text_env().from_string("{{ params.no_such_parameter }}").render(params={})
