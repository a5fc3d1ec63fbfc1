// Every role each identity holds, each on the one resource it concerns (least privilege).
//
// The app's identity (principalId): what the host and the app's code use. It reads the deployment package
// container but cannot write to it: its Storage Blob Data Owner assignment carries a condition that refuses
// blob writes, appends and deletes in that container (Learn, "Example Azure role assignment conditions for
// Blob Storage": the ActionMatches / containers:name form; runAsSuperUser/action is listed because Storage
// Blob Data Owner holds it).
// The deployment identity (deployPrincipalId): Storage Blob Data Contributor on the deployment container
// only; the platform uses it to write and read the package (api.bicep functionAppConfig.deployment).
param principalId string
param deployPrincipalId string
param storageAccountName string
param deploymentContainerName string
param keyVaultName string
param applicationInsightsName string

// Built-in role ids (learn.microsoft.com "Azure built-in roles"). Queue Data Contributor already includes
// the Message Processor and Message Sender data actions, so neither is granted on its own.
var storageRoles = {
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // queue trigger, poison queues, the webhook enqueues
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // accounts, connections, OAuth state
}
var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // host leases, timers, keys
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // the deployment identity: the package
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

var blobs = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs'
var packageReadOnly = '((!(ActionMatches{\'${blobs}/write\'}) AND !(ActionMatches{\'${blobs}/add/action\'}) AND !(ActionMatches{\'${blobs}/delete\'}) AND !(ActionMatches{\'${blobs}/runAsSuperUser/action\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals \'${deploymentContainerName}\'))'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deploymentContainerName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource blobAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, blobDataOwner)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataOwner)
    condition: packageReadOnly
    conditionVersion: '2.0'
  }
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(storageRoles): {
    name: guid(storage.id, principalId, role.value)
    scope: storage
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
    }
  }
]

resource packageWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentContainer.id, deployPrincipalId, blobDataContributor)
  scope: deploymentContainer
  properties: {
    principalId: deployPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}
