// The app's user-assigned managed identity. It exists before the function app, so every role it needs is
// granted before the app's first start (no window where the host cannot reach storage or Key Vault).
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
