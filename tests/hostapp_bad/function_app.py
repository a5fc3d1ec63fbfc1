"""An app the local host cannot serve: a blob trigger."""

import azure.functions as func

app = func.FunctionApp()


@app.blob_trigger(arg_name="blob", path="in/{name}", connection="AzureWebJobsStorage")
def on_blob(blob: func.InputStream) -> None:
    pass
