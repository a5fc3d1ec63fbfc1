// The function app on the Flex Consumption plan, run as the app's user-assigned identity. The platform
// writes and reads the deployment package with a second identity (deployIdentityId) that holds no other
// role, so the identity the app's code uses cannot replace its own package (README "Deploy to Azure").
// Its settings are applied by settings.bicep once the site exists, because PUBLIC_BASE_URL is built from
// the site's own host name.
//
// Flex Consumption refuses some site properties other plans accept (Learn, "App settings reference for
// Azure Functions", section "Flex Consumption plan deprecations": e.g. siteConfig.ftpsState, alwaysOn,
// linuxFxVersion): provisioning fails with error 51021. tests/unit/test_infra_flex.py refuses them here.
param name string
param planName string
param location string
param tags object
param identityId string
param deployIdentityId string
param deploymentContainerUrl string
@allowed([
  '3.12'
  '3.13'
])
param pythonVersion string
param logAnalyticsId string
param maximumInstanceCount int
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225:Flex Consumption zone redundancy exists only in some regions; left to the deployer so any Flex region works.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_17:Browsers and Dynamics 365 webhooks cannot present client certificates; the webhook checks a per-connection key.
  //checkov:skip=CKV_AZURE_222:Flex Consumption without a virtual network serves browsers and Dynamics over its public endpoint.
  //checkov:skip=CKV_AZURE_212:Flex Consumption scales by instance count (maximumInstanceCount), not by the worker-count setting this check reads.
  //checkov:skip=CKV_AZURE_78:Flex Consumption refuses siteConfig.ftpsState (Learn, Flex Consumption plan deprecations); FTP is off through the ftp basicPublishingCredentialsPolicies resource below.
  //checkov:skip=CKV_AZURE_213:Not set: platform health check on Flex Consumption is unverified and an unsupported siteConfig property fails the deployment; GET /api/health serves external probes.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${deployIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      cors: {
        allowedOrigins: []
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: deployIdentityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// Deployments go through Entra ID (azd, az cli): no FTP or SCM user names and passwords.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'function-logs'
  scope: site
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
