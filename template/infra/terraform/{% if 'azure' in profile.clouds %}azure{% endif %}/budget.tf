# The budget answer's monthly ceiling on the resource group: an email at 80% of forecast
# spend and another when actual spend reaches it. (Azure budgets are in the billing
# account's currency; the ceiling is in USD.)

resource "azurerm_consumption_budget_resource_group" "monthly" {
  name              = "${var.name}-monthly"
  resource_group_id = azurerm_resource_group.main.id
  amount            = var.monthly_budget_usd
  time_grain        = "Monthly"

  time_period {
    start_date = formatdate("YYYY-MM-01'T'00:00:00Z", timestamp())
  }

  notification {
    enabled        = true
    threshold      = 80
    threshold_type = "Forecasted"
    operator       = "GreaterThan"
    contact_emails = [var.alarm_email]
  }

  notification {
    enabled        = true
    threshold      = 100
    threshold_type = "Actual"
    operator       = "GreaterThanOrEqualTo"
    contact_emails = [var.alarm_email]
  }

  # The start month is fixed at creation.
  lifecycle {
    ignore_changes = [time_period]
  }
}
