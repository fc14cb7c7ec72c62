namespace ImOrleans;

/// <summary>Grain references without Orleans' per-call lookup. <c>GetGrain&lt;T&gt;(key)</c> works out the grain
/// interface and grain type from <typeparamref name="T"/> by reflection (custom attributes, type-name formatting) on
/// every call, which showed up in the delivery path's profile; here that is done once per interface, and each
/// reference is made from the cached ids with <see cref="IGrainFactory.GetGrain(GrainId, GrainInterfaceType)"/>.</summary>
public static class GrainRefs
{
    public static T Ref<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var ids = Types<T>.Get(grains);
        return (T)grains.GetGrain(GrainId.Create(ids.Type, key), ids.InterfaceType);
    }

    private static class Types<T> where T : IGrainWithStringKey
    {
        // Ids, not objects of one cluster: the same for every client and silo of this build. A class, so that it is
        // published whole to other threads.
        private static Ids? _ids;

        public static Ids Get(IGrainFactory grains)
        {
            if (_ids is { } ids)
                return ids;
            var sample = (GrainReference)(object)grains.GetGrain<T>("-");
            return _ids = new Ids(sample.GrainId.Type, sample.InterfaceType);
        }
    }

    private sealed record Ids(GrainType Type, GrainInterfaceType InterfaceType);
}
