namespace ImOrleans.Models;

[GenerateSerializer, Alias("im.ConversationKind")]
public enum ConversationKind
{
    Direct = 0,
    Group = 1,
}
