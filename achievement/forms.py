from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

MAX_UPLOAD_BYTES = 2 * 1024**3  # a national year-end extract is about 450 MB


class UploadExtractForm(forms.Form):
    file = forms.FileField(
        label="GPES extract file",
        help_text="A CSV file in the CQRS indicator-values layout (QUALITY_SERVICE, NAME, ORG_CODE, ...).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("upload", "Upload extract"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The selected file is empty.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The selected file is larger than 2 GB.")
        return upload
