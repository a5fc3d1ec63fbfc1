"""The tables a webhook is registered through: serviceendpoint (the URL and its key), sdkmessage
(Create, Update, Delete…), sdkmessagefilter (message × table), sdkmessageprocessingstep and
sdkmessageprocessingstepimage (the entity images a step asks for)."""

from __future__ import annotations

from .metadata_columns import lookup, memo, new_table, s, state_status
from .metadata_model import BOOLEAN, ENTITYNAME, INTEGER, PICKLIST, Attribute, OneToMany, Table


def plugin_tables() -> list[Table]:
    endpoint = new_table(
        "serviceendpoint",
        "serviceendpoints",
        "name",
        4618,
        "Service Endpoint",
        schema_name="ServiceEndpoint",
        ownership="OrganizationOwned",
    )
    contracts = {1: "OneWay", 2: "Queue", 3: "Rest", 4: "TwoWay", 5: "Topic", 6: "Queue_Persistent"}
    contracts |= {7: "EventHub", 8: "Webhook", 9: "EventGrid"}
    authtypes = {1: "ACS", 2: "SASKey", 3: "SASToken", 4: "WebhookKey", 5: "HttpHeader", 6: "HttpQueryString"}
    for a in (
        s("name", 256),
        Attribute("contract", PICKLIST, options=contracts),
        Attribute("authtype", PICKLIST, options=authtypes),
        s("url", 2000),
        s("authvalue", 4000),
        Attribute("messageformat", PICKLIST, options={1: "BinaryXML", 2: "Json", 3: "TextXML"}),
        Attribute("connectionmode", PICKLIST, options={1: "Normal", 2: "Federated"}),
        Attribute("userclaim", PICKLIST, options={1: "None", 2: "UserId", 3: "UserInfo"}),
        s("namespaceaddress", 255),
        s("path", 160),
        s("solutionnamespace", 160),
        memo("description", 2000),
    ):
        endpoint.add(a)
    message = new_table("sdkmessage", "sdkmessages", "name", 4606, "Sdk Message", schema_name="SdkMessage")
    message.add(s("name", 256))
    filter_ = new_table(
        "sdkmessagefilter",
        "sdkmessagefilters",
        "name",
        4607,
        "Sdk Message Filter",
        schema_name="SdkMessageFilter",
    )
    for a in (
        s("name", 256),
        lookup("sdkmessageid", "sdkmessage"),
        Attribute("primaryobjecttypecode", ENTITYNAME),
        Attribute("secondaryobjecttypecode", ENTITYNAME),
        Attribute("iscustomprocessingstepallowed", BOOLEAN),
    ):
        filter_.add(a)
    step = new_table(
        "sdkmessageprocessingstep",
        "sdkmessageprocessingsteps",
        "name",
        4608,
        "Sdk Message Processing Step",
        schema_name="SdkMessageProcessingStep",
    )
    for a in (
        s("name", 256),
        lookup("sdkmessageid", "sdkmessage"),
        lookup("sdkmessagefilterid", "sdkmessagefilter"),
        lookup("eventhandler", "plugintype", "serviceendpoint"),
        Attribute(
            "stage", PICKLIST, options={10: "Pre-validation", 20: "Pre-operation", 30: "Main", 40: "Post"}
        ),
        Attribute("mode", PICKLIST, options={0: "Synchronous", 1: "Asynchronous"}),
        Attribute("rank", INTEGER),
        s("filteringattributes", 100000),
        Attribute("asyncautodelete", BOOLEAN),
        Attribute(
            "supporteddeployment",
            PICKLIST,
            options={0: "Server Only", 1: "Microsoft Dynamics 365 Client", 2: "Both"},
        ),
        s("configuration", 1_073_741_823),
        memo("description", 256),
    ):
        step.add(a)
    state_status(step, {0: "Enabled", 1: "Disabled"}, {1: (0, "Enabled"), 2: (1, "Disabled")})
    return [endpoint, message, filter_, step, _step_image(step)]


def _step_image(step: Table) -> Table:
    """Learn, "sdkmessageprocessingstepimage EntityType" (Web API reference): `attributes` is a
    comma-separated column list, `entityalias` the key the image is sent under, `imagetype` 0 PreImage,
    1 PostImage, 2 Both, `messagepropertyname` Target (Update, Delete) or Id (Create). Deleting the step
    deletes its images (the relationship cascades)."""
    image = new_table(
        "sdkmessageprocessingstepimage",
        "sdkmessageprocessingstepimages",
        "name",
        4615,
        "Sdk Message Processing Step Image",
        schema_name="SdkMessageProcessingStepImage",
        ownership="OrganizationOwned",
    )
    for a in (
        s("name", 256),
        s("entityalias", 256),
        Attribute("imagetype", PICKLIST, options={0: "PreImage", 1: "PostImage", 2: "Both"}),
        s("messagepropertyname", 256),
        s("attributes", 100000),
        lookup("sdkmessageprocessingstepid", "sdkmessageprocessingstep"),
        s("description", 256),
    ):
        image.add(a)
    nav = "sdkmessageprocessingstepid_sdkmessageprocessingstepimage"
    step.one_to_many[nav] = OneToMany(nav, image.logical_name, "sdkmessageprocessingstepid")
    return image
