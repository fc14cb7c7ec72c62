using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>A device may subscribe to its own tree <c>u/{self}/#</c> (or topics in it) and nothing else.</summary>
public sealed class SubscriptionGuard
{
    public Task InterceptAsync(InterceptingSubscriptionEventArgs e)
    {
        var user = (e.SessionItems[MqttSessionEvents.ConnectionKey] as DeviceConnection)?.User;
        if (user is null || !Topics.MaySubscribe(user, e.TopicFilter.Topic))
        {
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            e.Response.ReasonString = $"only u/{user}/# may be subscribed";
        }
        return Task.CompletedTask;
    }
}
