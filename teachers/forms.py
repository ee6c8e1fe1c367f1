"""Forms of the sync page: Post Grades and the fixes in place (ids of the course only)."""

from django import forms


class PostGradesForm(forms.Form):
    """The sections and assignments a teacher posts grades for (ids of this course only)."""

    section = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={"required": "Choose at least one section."},
    )
    assignment = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={"required": "Choose at least one assignment to post."},
    )

    def __init__(self, *args, section_ids: list[int], assignment_ids: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(sid, sid) for sid in section_ids]
        self.fields["assignment"].choices = [(aid, aid) for aid in assignment_ids]
        invalid = "That {} is not part of this course (the page may be out of date; reload it)."
        self.fields["section"].error_messages["invalid_choice"] = invalid.format("section")
        self.fields["assignment"].error_messages["invalid_choice"] = invalid.format("assignment")


class RenameForm(forms.Form):
    name = forms.CharField(
        label="New name",
        strip=True,
        error_messages={"required": "Type the new name."},
    )

    def __init__(self, *args, max_length: int, taken: set[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        self.taken = taken

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if len(name) > self.max_length:
            raise forms.ValidationError(
                f"Infinite Campus takes at most {self.max_length} characters; "
                f"this name has {len(name)}."
            )
        if name.casefold() in self.taken:
            raise forms.ValidationError(
                "Another assignment of this course that syncs already has this name."
            )
        return name


class DueDateForm(forms.Form):
    due_at = forms.DateTimeField(
        label="Due date",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": "Choose a due date and time.",
            "invalid": "Enter the due date as a date and a time.",
        },
    )
    section = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, section_ids: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(sid, sid) for sid in section_ids]
